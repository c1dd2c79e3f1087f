# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager

import psycopg2.errors

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon


class MilestoneBillingCommon(InvoiceFollowupCommon):
    """A fixed-price project of partner_a billed in shares of a tax-free service product."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids += (
            cls.env.ref('project.group_project_manager') + cls.env.ref('project.group_project_milestone')
            + cls.env.ref('sales_team.group_sale_manager'))
        cls.product_fixed = cls.env['product.product'].create({
            'name': 'Fixed-price delivery',
            'type': 'service',
            'list_price': 1.0,
            'taxes_id': [Command.clear()],
        })

    @classmethod
    def _project_and_billing_users(cls, prefix):
        """A project manager without invoicing rights, and one who is also a billing user, of the company."""
        project_user = new_test_user(
            cls.env, login=f'{prefix}_pm', groups='base.group_user,project.group_project_manager',
            company_id=cls.company.id)
        billing_user = new_test_user(
            cls.env, login=f'{prefix}_billing',
            groups='base.group_user,project.group_project_manager,account.group_account_invoice',
            company_id=cls.company.id)
        return project_user, billing_user

    @classmethod
    def _project(cls, amount, shares, **values):
        return cls.env['project.project'].create({
            'name': f'Fixed price {amount}',
            'allow_milestones': True,
            'company_id': cls.company.id,
            'billing_partner_id': cls.partner_a.id,
            'billing_amount': amount,
            'billing_currency_id': cls.company.currency_id.id,
            'billing_product_id': cls.product_fixed.id,
            'milestone_ids': [
                Command.create({'name': f'Share {index + 1}', 'sequence': index + 1, 'invoice_percentage': share})
                for index, share in enumerate(shares)
            ],
            **values,
        })

    def _invoices(self, milestones, states=('draft', 'posted')):
        return self.env['account.move'].search(
            [('milestone_id', 'in', milestones.ids), ('state', 'in', states)], order='id')

    @contextmanager
    def _assert_refused(self, exception, text):
        """assertRaises (which rolls the failed write back) and the message the user reads."""
        with self.assertRaises(exception) as catcher:
            yield
        self.assertIn(text, str(catcher.exception))

    def _messages(self, record):
        return record.message_ids.mapped(lambda message: message.preview or '')


@tagged('post_install', '-at_install')
class TestMilestonePlan(MilestoneBillingCommon):
    """The plan: shares to the cent, the presets wizard and what is refused."""

    def _reach_all(self, project):
        for milestone in project.milestone_ids.sorted('sequence'):
            milestone.is_reached = True
        return project.milestone_ids.sorted('sequence').invoice_id

    def test_thirds_on_100_add_up_to_the_cent(self):
        project = self._project(100.0, [33, 33, 34])
        invoices = self._reach_all(project)
        self.assertEqual(invoices.mapped('amount_untaxed'), [33.0, 33.0, 34.0])
        self.assertEqual(project.billing_invoiced_amount, 100.0)
        self.assertEqual(project.billing_remaining_amount, 0.0)

    def test_thirds_that_do_not_divide_the_last_takes_the_rounding(self):
        project = self._project(99.99, [33, 33, 34])
        self.assertEqual(project.milestone_ids.sorted('sequence').mapped('invoice_amount'), [33.0, 33.0, 33.99])
        invoices = self._reach_all(project)
        self.assertEqual(invoices.mapped('amount_untaxed'), [33.0, 33.0, 33.99])
        self.assertAlmostEqual(sum(invoices.mapped('amount_untaxed')), 99.99, places=6)

    def test_half_of_an_odd_cent(self):
        project = self._project(1000.01, [50, 50])
        invoices = self._reach_all(project)
        first, last = invoices.mapped('amount_untaxed')
        self.assertEqual(first, 500.01, "each share is rounded to the currency")
        self.assertEqual(last, 500.0, "the last share takes the remainder")
        self.assertEqual(first + last, 1000.01)
        self.assertEqual(invoices.mapped('invoice_line_ids.quantity'), [1.0, 1.0])
        self.assertEqual(invoices.invoice_line_ids.product_id, self.product_fixed)

    def test_last_by_sequence_takes_the_rounding_even_when_reached_first(self):
        project = self._project(10.0, [33, 33, 34])
        last = project.milestone_ids.sorted('sequence')[-1]
        last.is_reached = True
        self.assertEqual(last.invoice_id.amount_untaxed, 3.4)
        self.assertEqual(sum(self._reach_all(project).mapped('amount_untaxed')), 10.0)

    def test_amount_changed_midway_the_rest_is_adjusted(self):
        project = self._project(1000.0, [50, 50])
        first, second = project.milestone_ids.sorted('sequence')
        first.is_reached = True
        project.billing_amount = 1200.01  # a change order after the first invoice
        self.assertEqual(first.invoice_amount, 500.0, "an invoiced share keeps its invoice's amount")
        self.assertEqual(second.invoice_amount, 700.01)
        second.is_reached = True
        self.assertEqual(second.invoice_id.amount_untaxed, 700.01)
        self.assertEqual(project.billing_invoiced_amount, 1200.01)
        self.assertEqual(project.billing_remaining_amount, 0.0)
        second.is_reached = False  # its draft is cancelled
        project.billing_amount = 400.0
        with self._assert_refused(UserError, "already exceed its contract amount of"):
            second.is_reached = True
        project.billing_amount = 500.0
        second.is_reached = True
        self.assertFalse(second.invoice_id, "nothing left to invoice")
        self.assertTrue(any("nothing left to invoice on the contract" in body for body in self._messages(second)))

    def test_contract_in_another_currency(self):
        currency = self.setup_other_currency('EUR', rates=[('2025-01-01', 2.0)])
        project = self._project(100.01, [50, 50], billing_currency_id=currency.id)
        project.milestone_ids.sorted('sequence')[0].is_reached = True
        invoice = project.milestone_ids.sorted('sequence')[0].invoice_id
        self.assertEqual(invoice.currency_id, currency)
        self.assertEqual(invoice.amount_untaxed, 50.01)
        self.assertEqual(project.billing_invoiced_amount, 50.01, "billed in the contract's currency")
        self.assertEqual(project.billing_remaining_amount, 50.0)

    def test_wizard_presets(self):
        project = self._project(100.0, [100])
        Plan = self.env['project.milestone.billing.plan']
        Plan.create({'project_id': project.id, 'preset': 'thirds'}).action_apply()
        milestones = project.milestone_ids.sorted('sequence')
        self.assertEqual(milestones.mapped('invoice_percentage'), [33.0, 33.0, 34.0], "missing milestones created")
        self.assertEqual(milestones.mapped('name'), ['Share 1', 'Milestone 2', 'Milestone 3'])
        Plan.create({'project_id': project.id, 'preset': 'half'}).action_apply()
        self.assertEqual(milestones.mapped('invoice_percentage'), [50.0, 50.0, 0.0], "milestones beyond: no share")
        Plan.create({'project_id': project.id, 'preset': 'equal', 'share_count': 3}).action_apply()
        self.assertEqual(milestones.mapped('invoice_percentage'), [33.33, 33.33, 33.34])
        self.assertEqual(project.billing_percentage_total, 100.0)
        Plan.create({'project_id': project.id, 'preset': 'equal', 'share_count': 6}).action_apply()
        self.assertEqual(project.milestone_ids.sorted('sequence').mapped('invoice_percentage'),
                         [16.67] * 5 + [16.65])
        self.assertAlmostEqual(project.billing_percentage_total, 100.0, places=6)
        self.assertEqual(self._reach_all(project).mapped('amount_untaxed'), [16.67] * 5 + [16.65])

    def test_wizard_bad_input(self):
        project = self._project(100.0, [50, 50])
        with self._assert_refused(ValidationError, "between 1 and 100 equal shares"):
            self.env['project.milestone.billing.plan'].create(
                {'project_id': project.id, 'preset': 'equal', 'share_count': 0})
        project.milestone_ids[0].is_reached = True
        with self._assert_refused(UserError, "already has invoiced milestones"):
            self.env['project.milestone.billing.plan'].create(
                {'project_id': project.id, 'preset': 'thirds'}).action_apply()

    def test_shares_not_adding_up_to_100_are_refused(self):
        project = self._project(1000.0, [50, 40])
        milestone = project.milestone_ids[0]
        with self._assert_refused(UserError, "add up to 90.0%, not 100%"):
            milestone.is_reached = True
        self.env.invalidate_all()
        self.assertFalse(milestone.is_reached, "the refusal undoes the reach")
        self.assertFalse(self._invoices(project.milestone_ids))
        project.milestone_ids[1].invoice_percentage = 50
        milestone.is_reached = True
        self.assertEqual(milestone.invoice_id.amount_untaxed, 500.0)

    def test_bad_values(self):
        project = self._project(1000.0, [50, 50])
        with self._assert_refused(ValidationError, "between 0% and 100%, not 120.0%"):
            project.milestone_ids[0].invoice_percentage = 120
        with self._assert_refused(ValidationError, "between 0% and 100%"):
            project.milestone_ids[0].invoice_percentage = -5
        with self._assert_refused(ValidationError, "cannot be negative"):
            project.billing_amount = -1
        project.billing_product_id = False
        with self._assert_refused(UserError, "no product to invoice"):
            project.milestone_ids[0].is_reached = True

    def test_no_plan_in_force_no_invoice(self):
        without_customer = self._project(1000.0, [50, 50], billing_partner_id=False)
        without_amount = self._project(0.0, [50, 40])
        (without_customer | without_amount).milestone_ids.write({'is_reached': True})
        self.assertFalse(self._invoices((without_customer | without_amount).milestone_ids, states=('draft', 'posted',
                                                                                                   'cancel')))


@tagged('post_install', '-at_install')
class TestMilestoneInvoicing(MilestoneBillingCommon):
    """Reaching a milestone invoices its share exactly once, by hand, from tasks or from the sale order."""

    def test_manual_reach_creates_the_draft_invoice(self):
        project = self._project(3000.0, [50, 50])
        first, second = project.milestone_ids.sorted('sequence')
        first.is_reached = True
        invoice = first.invoice_id
        self.assertEqual(invoice.state, 'draft', "no auto-post: a draft to review")
        self.assertEqual(invoice.move_type, 'out_invoice')
        self.assertEqual(invoice.partner_id, self.partner_a)
        self.assertEqual(invoice.currency_id, self.company.currency_id)
        self.assertEqual(invoice.company_id, self.company)
        self.assertEqual(invoice.amount_untaxed, 1500.0)
        self.assertEqual(invoice.milestone_id, first)
        self.assertEqual(invoice.milestone_project_id, project)
        self.assertEqual(invoice.invoice_origin, project.name)
        self.assertIn("Share 1 (50.0% of", invoice.invoice_line_ids.name)
        self.assertFalse(second.invoice_id)
        self.assertEqual(project.billing_invoice_count, 1)
        self.assertEqual(project.billing_invoiced_amount, 1500.0)
        self.assertEqual(project.billing_remaining_amount, 1500.0)
        self.assertEqual(first.invoice_state, 'draft')
        note = "Milestone “Share 1” reached: invoice"
        self.assertTrue(any(note in body for body in self._messages(first)), "chatter note on the milestone")
        self.assertTrue(any(note in body for body in self._messages(project)), "chatter note on the project")
        action = project.action_view_billing_invoices()
        self.assertEqual(self.env['account.move'].search(action['domain']), invoice)

    def test_auto_post_and_send_then_the_cadence_follows(self):
        self.partner_a.invoice_sending_method = 'email'  # the customer's own sending preference is followed
        project = self._project(2000.0, [50, 50], billing_auto_post=True, billing_auto_send=True)
        milestone = project.milestone_ids.sorted('sequence')[0]
        with self._at('2026-01-05'):
            milestone.is_reached = True
        invoice = milestone.invoice_id
        self.assertEqual(invoice.state, 'posted')
        self.assertTrue(invoice.sending_data, "handed to Odoo's send queue")
        self.assertEqual(invoice.followup_policy_id, self.policy, "milestone invoices follow the cadence")
        self.assertEqual(invoice.followup_state, 'active')
        with self._at('2026-01-05'), self.enter_registry_test_mode():
            self.env.ref('account.ir_cron_account_move_send').method_direct_trigger()
        self.env.invalidate_all()
        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)
        self.assertTrue(invoice.invoice_pdf_report_id)
        sent = invoice.message_ids.filtered(lambda message: self.partner_a in message.partner_ids)
        self.assertEqual(len(sent), 1, "one e-mail to the customer")
        self.assertTrue(sent.attachment_ids, "with the invoice PDF")

    def test_auto_reach_when_all_tasks_are_done(self):
        project = self._project(1000.0, [50, 50], milestone_auto_reach=True)
        first, second = project.milestone_ids.sorted('sequence')
        Task = self.env['project.task']
        design, review = Task.create([
            {'name': 'Design', 'project_id': project.id, 'milestone_id': first.id},
            {'name': 'Review', 'project_id': project.id, 'milestone_id': first.id},
        ])
        cancelled = Task.create({'name': 'Dropped', 'project_id': project.id, 'milestone_id': second.id})
        design.state = '1_done'
        self.assertFalse(first.is_reached, "a task is still open")
        review.state = '1_done'
        self.assertTrue(first.is_reached)
        self.assertEqual(first.invoice_id.amount_untaxed, 500.0)
        cancelled.state = '1_canceled'
        self.assertFalse(second.is_reached, "all tasks cancelled: nothing was delivered")
        late = Task.create({'name': 'Launch', 'project_id': project.id, 'state': '1_done'})
        late.milestone_id = second
        self.assertTrue(second.is_reached, "a done task moved into the milestone completes it")
        self.assertEqual(len(self._invoices(project.milestone_ids)), 2)
        invalid = self._project(1000.0, [50, 40], milestone_auto_reach=True)
        task = Task.create({'name': 'Work', 'project_id': invalid.id, 'milestone_id': invalid.milestone_ids[0].id})
        task.state = '1_done'
        self.assertEqual(task.state, '1_done', "closing the task is not refused because of the plan")
        self.assertFalse(invalid.milestone_ids[0].is_reached)
        self.assertFalse(self._invoices(invalid.milestone_ids))
        self.assertTrue(any("could not be reached automatically" in body for body in self._messages(invalid)))
        manual = self._project(1000.0, [50, 50])
        task = Task.create({'name': 'Work', 'project_id': manual.id, 'milestone_id': manual.milestone_ids[0].id})
        task.state = '1_done'
        self.assertFalse(manual.milestone_ids[0].is_reached, "the project does not reach milestones by itself")

    def test_double_reach_gives_one_invoice(self):
        project = self._project(1000.0, [50, 50])
        milestone = project.milestone_ids[0]
        milestone.is_reached = True
        invoice = milestone.invoice_id
        milestone.write({'is_reached': True})
        milestone.toggle_is_reached(True)
        self.assertEqual(self._invoices(milestone), invoice)
        self.assertEqual(milestone.invoice_id, invoice)

    def test_unreach_cancels_the_draft_and_reach_again_invoices_anew(self):
        project = self._project(1000.0, [50, 50])
        milestone = project.milestone_ids[0]
        milestone.is_reached = True
        draft = milestone.invoice_id
        milestone.is_reached = False
        self.assertEqual(draft.state, 'cancel')
        self.assertFalse(milestone.invoice_id)
        self.assertEqual(project.billing_invoiced_amount, 0.0)
        self.assertTrue(any("its draft invoice" in body for body in self._messages(project)))
        milestone.is_reached = True
        self.assertNotEqual(milestone.invoice_id, draft)
        self.assertEqual(self._invoices(milestone), milestone.invoice_id, "one live invoice")
        self.assertEqual(self._invoices(milestone, states=('cancel',)), draft)

    def test_unreach_of_a_posted_invoice_asks_a_person(self):
        project = self._project(1000.0, [50, 50], billing_auto_post=True)
        milestone = project.milestone_ids[0]
        milestone.is_reached = True
        posted = milestone.invoice_id
        self.assertEqual(posted.state, 'posted')
        milestone.is_reached = False
        self.assertEqual(posted.state, 'posted', "nothing is reversed silently")
        self.assertEqual(milestone.invoice_id, posted)
        self.assertFalse(self.env['account.move'].search([('reversed_entry_id', '=', posted.id)]))
        activity = project.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, self.env.ref('mail.mail_activity_data_todo'))
        self.assertIn("Share 1", activity.summary)
        case = posted.followup_case_ids
        self.assertEqual(case.reason, 'milestone_unreached', "the collections board asks a person too")
        self.assertEqual(posted.followup_state, 'paused', "no reminder for an invoice that may not be owed")
        milestone.is_reached = True
        self.assertEqual(self._invoices(milestone), posted, "reached again: still the one invoice")
        milestone.is_reached = False
        self.assertEqual(len(project.activity_ids), 1, "the same question is not asked twice")

    def test_unique_index_stops_a_second_live_invoice(self):
        project = self._project(1000.0, [50, 50])
        milestone = project.milestone_ids[0]
        milestone.is_reached = True
        values = {'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'milestone_id': milestone.id}
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger('odoo.sql_db'), self.cr.savepoint():
            self.env['account.move'].create(values)
            self.env.flush_all()
        cancelled = milestone.invoice_id
        cancelled.button_cancel()
        self.env.flush_all()
        replacement = self.env['account.move'].create(values)  # a cancelled invoice does not block a new one
        self.env.flush_all()
        self.cr.execute("SELECT id, state FROM account_move WHERE milestone_id = %s ORDER BY id", [milestone.id])
        self.assertEqual(self.cr.fetchall(), [(cancelled.id, 'cancel'), (replacement.id, 'draft')])

    def test_invoice_created_concurrently_is_not_duplicated(self):
        """Another transaction created the invoice (its link on the milestone not seen yet): re-checked after
        the lock, the existing invoice is linked instead of a second one created."""
        project = self._project(1000.0, [50, 50])
        milestone = project.milestone_ids[0]
        other = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'milestone_id': milestone.id})
        milestone.is_reached = True
        self.assertEqual(milestone.invoice_id, other)
        self.assertEqual(self._invoices(milestone), other)

    def test_posting_refused_keeps_the_draft(self):
        project = self._project(1000.0, [50, 50], billing_auto_post=True)
        milestone = project.milestone_ids[0]

        def refuse(moves, *args, **kwargs):
            raise UserError(self.env._("The accounting period is locked."))

        self.patch(self.registry['account.move'], '_post', refuse)  # a fault of accounting, not of the milestone
        milestone.is_reached = True
        self.assertTrue(milestone.is_reached, "the milestone stays reached")
        self.assertEqual(milestone.invoice_id.state, 'draft')
        self.assertTrue(any("could not be posted automatically" in body
                            for body in self._messages(milestone.invoice_id)))

    def _sale_order(self, price, invoice_policy='delivery'):
        product = self.env['product.product'].create({
            'name': 'Milestone-billed service',
            'type': 'service',
            'invoice_policy': invoice_policy,
            'service_type': 'milestones',
            'list_price': price,
            'taxes_id': [Command.clear()],
        })
        order = self.env['sale.order'].create({
            'partner_id': self.partner_a.id,
            'order_line': [Command.create({'product_id': product.id, 'product_uom_qty': 1.0, 'price_unit': price})],
        })
        order.action_confirm()
        return order

    def test_sale_order_path(self):
        order = self._sale_order(2000.0)
        line = order.order_line
        self.assertEqual(line.qty_delivered_method, 'milestones')
        project = self._project(2000.0, [], billing_auto_post=True)
        first, second = self.env['project.milestone'].create([
            {'name': 'Kick-off', 'project_id': project.id, 'sequence': 1, 'sale_line_id': line.id,
             'quantity_percentage': 0.4},
            {'name': 'Delivery', 'project_id': project.id, 'sequence': 2, 'sale_line_id': line.id,
             'quantity_percentage': 0.6},
        ])
        first.is_reached = True
        invoice = first.invoice_id
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.invoice_line_ids.sale_line_ids, line, "invoiced from the sale order line")
        self.assertEqual(invoice.invoice_line_ids.quantity, 0.4)
        self.assertEqual(invoice.amount_untaxed, 800.0, "the sale order's price, not the plan's amount")
        self.assertEqual(invoice.invoice_origin, order.name)
        self.assertEqual(line.qty_invoiced, 0.4)
        self.assertEqual(order.invoice_ids, invoice)
        first.write({'is_reached': True})
        second.is_reached = True
        self.assertEqual(second.invoice_id.amount_untaxed, 1200.0)
        self.assertEqual(line.qty_invoiced, 1.0)
        self.assertEqual(order.invoice_ids, first.invoice_id | second.invoice_id)

    def test_sale_order_already_invoiced_gives_no_second_invoice(self):
        order = self._sale_order(1000.0, invoice_policy='order')
        order._create_invoices().action_post()  # invoiced upfront, by hand, from the sale order
        project = self._project(1000.0, [])
        milestone = self.env['project.milestone'].create({
            'name': 'All', 'project_id': project.id, 'sale_line_id': order.order_line.id, 'quantity_percentage': 1.0})
        milestone.is_reached = True
        self.assertFalse(milestone.invoice_id)
        self.assertEqual(len(order.invoice_ids), 1)
        self.assertTrue(any("nothing left to invoice" in body for body in self._messages(milestone)))
