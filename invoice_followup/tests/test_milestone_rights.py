# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .test_milestone import MilestoneBillingCommon


@tagged('post_install', '-at_install')
class TestMilestoneBillingRights(MilestoneBillingCommon):
    """Only a billing user of the project's company makes a milestone invoice appear, only for the project's
    billing customer: anyone else reaching a milestone leaves its invoice to billing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.project_user, cls.billing_user = cls._project_and_billing_users('rights')
        cls.portal_user = new_test_user(cls.env, login='rights_portal', groups='base.group_portal')
        cls.activity_todo = cls.env.ref('mail.mail_activity_data_todo')

    def _to_invoice_activity(self, project):
        return project.activity_ids.filtered(lambda activity: activity.summary.startswith("Milestone to invoice"))

    def test_project_user_reaching_leaves_the_invoice_to_billing(self):
        project = self._project(1000.0, [50, 50], billing_auto_post=True, billing_auto_send=True,
                                user_id=self.billing_user.id)
        milestone = project.milestone_ids.sorted('sequence')[0]
        milestone.with_user(self.project_user).is_reached = True
        self.assertTrue(milestone.is_reached, "the delivery is the project's call")
        self.assertFalse(self._invoices(milestone, states=('draft', 'posted', 'cancel')),
                         "no invoice created, posted or sent for a user who cannot create invoices")
        activity = self._to_invoice_activity(project)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.billing_user, "the project's manager invoices: they can")
        self.assertIn("Share 1", activity.summary)
        self.assertIn(self.project_user.name, activity.note)
        # The project user cannot invoice it by hand either.
        with self.assertRaises(AccessError):
            milestone.with_user(self.project_user).action_billing_create_invoice()
        # Billing invoices it: the plan's share, posted and queued for sending as the project says.
        milestone.with_user(self.billing_user).action_billing_create_invoice()
        invoice = milestone.invoice_id
        self.assertEqual((invoice.amount_untaxed, invoice.state), (500.0, 'posted'))
        self.assertTrue(invoice.sending_data)
        self.assertFalse(self._to_invoice_activity(project), "the to-do is done")
        milestone.with_user(self.billing_user).action_billing_create_invoice()
        self.assertEqual(self._invoices(milestone), invoice, "invoicing again gives the same invoice")

    def test_activity_goes_to_a_billing_user_when_the_manager_cannot_invoice(self):
        project = self._project(1000.0, [100], user_id=self.project_user.id)
        project.milestone_ids.with_user(self.project_user).is_reached = True
        activity = self._to_invoice_activity(project)
        self.assertEqual(len(activity), 1)
        self.assertNotEqual(activity.user_id, self.project_user)
        self.assertTrue(activity.user_id.has_group('account.group_account_invoice'))
        self.assertIn(self.company, activity.user_id.company_ids)
        project.milestone_ids.with_user(self.project_user).is_reached = False
        self.assertFalse(self._to_invoice_activity(project), "no longer reached: nothing to invoice")
        self.assertFalse(self._invoices(project.milestone_ids, states=('draft', 'posted', 'cancel')))

    def test_portal_collaborator_closing_the_last_task(self):
        project = self._project(
            1000.0, [50, 50], billing_auto_post=True, billing_auto_send=True, milestone_auto_reach=True,
            user_id=self.billing_user.id, privacy_visibility='portal',
            collaborator_ids=[Command.create({'partner_id': self.portal_user.partner_id.id})])
        project.message_subscribe(partner_ids=self.portal_user.partner_id.ids)
        first = project.milestone_ids.sorted('sequence')[0]
        task = self.env['project.task'].create({'name': 'Deliver', 'project_id': project.id, 'milestone_id': first.id})
        task.with_user(self.portal_user).write({'state': '1_done'})
        self.assertTrue(first.is_reached, "the last task closed reaches the milestone")
        self.assertFalse(self._invoices(first, states=('draft', 'posted', 'cancel')),
                         "a portal collaborator makes no invoice appear")
        self.assertEqual(self._to_invoice_activity(project).user_id, self.billing_user)

    def test_billing_user_of_another_company_leaves_it_to_billing(self):
        other = self.setup_other_company(name='Rights Co B')
        outsider = new_test_user(
            self.env, login='rights_billing_b', company_id=other['company'].id,
            groups='base.group_user,project.group_project_manager,account.group_account_invoice')
        project = self._project(1000.0, [100], user_id=self.billing_user.id)
        project.milestone_ids.with_user(outsider).sudo().is_reached = True
        self.assertFalse(self._invoices(project.milestone_ids), "billing rights in company B do not bill A")
        self.assertTrue(self._to_invoice_activity(project))

    def _milestone_order(self, partner, company=None):
        product = self.env['product.product'].create({
            'name': 'Milestone service', 'type': 'service', 'invoice_policy': 'delivery',
            'service_type': 'milestones', 'list_price': 1000.0, 'taxes_id': [Command.clear()],
            'company_id': company and company.id,
        })
        order = self.env['sale.order'].with_company(company or self.company).create({
            'partner_id': partner.id,
            'company_id': (company or self.company).id,
            'order_line': [Command.create({'product_id': product.id, 'product_uom_qty': 1.0, 'price_unit': 1000.0})],
        })
        order.action_confirm()
        return order

    def test_sale_line_of_another_customer_or_company_is_refused(self):
        project = self._project(1000.0, [])
        Milestone = self.env['project.milestone']
        other_customer = self._milestone_order(self.partner_b)
        with self._assert_refused(ValidationError, f"bills {self.partner_a.display_name}"):
            Milestone.create({'name': 'Wrong customer', 'project_id': project.id,
                              'sale_line_id': other_customer.order_line.id, 'quantity_percentage': 1.0})
        other = self.setup_other_company(name='Rights Co C')
        self.env.user.company_ids |= other['company']
        other_company = self._milestone_order(self.partner_a, company=other['company'])
        with self._assert_refused(ValidationError, "belongs to Rights Co C"):
            Milestone.create({'name': 'Wrong company', 'project_id': project.id,
                              'sale_line_id': other_company.order_line.id, 'quantity_percentage': 1.0})
        # A contact of the billing customer's company is the same customer.
        contact = self.env['res.partner'].create({'name': 'Buyer', 'parent_id': self.partner_a.id})
        same_customer = self._milestone_order(contact)
        milestone = Milestone.create({'name': 'Right one', 'project_id': project.id,
                                      'sale_line_id': same_customer.order_line.id, 'quantity_percentage': 1.0})
        with self._assert_refused(ValidationError, f"bills {self.partner_b.display_name}"):
            project.billing_partner_id = self.partner_b
        # Checked again when invoicing: the order changed hands after the milestone was linked.
        same_customer.write({'partner_id': self.partner_b.id, 'partner_invoice_id': self.partner_b.id})
        with self._assert_refused(UserError, f"bills {self.partner_a.display_name}"):
            milestone.is_reached = True
        self.assertFalse(self._invoices(milestone, states=('draft', 'posted', 'cancel')))

    def test_milestone_then_create_invoice_bills_once(self):
        order = self._milestone_order(self.partner_a)
        line = order.order_line
        project = self._project(1000.0, [], user_id=self.billing_user.id)
        first, second = self.env['project.milestone'].create([
            {'name': 'Kick-off', 'project_id': project.id, 'sequence': 1, 'sale_line_id': line.id,
             'quantity_percentage': 0.4},
            {'name': 'Delivery', 'project_id': project.id, 'sequence': 2, 'sale_line_id': line.id,
             'quantity_percentage': 0.6},
        ])
        first.is_reached = True
        self.assertEqual(first.invoice_id.invoice_line_ids.quantity, 0.4)
        with self.assertRaisesRegex(UserError, "No items are available to invoice"):
            self.env['sale.advance.payment.inv'].with_context(
                active_model='sale.order', active_ids=order.ids).create({}).create_invoices()
        self.assertEqual(order.invoice_ids, first.invoice_id, "the milestone's quantity is billed once")
        # The other way round: a project user reaches the second one (left to billing), the order is invoiced by
        # hand, then billing invoices the milestone: nothing is left on the line.
        second.with_user(self.project_user).is_reached = True
        self.assertFalse(second.invoice_id)
        by_hand = order._create_invoices()
        self.assertEqual(by_hand.invoice_line_ids.quantity, 0.6)
        second.with_user(self.billing_user).action_billing_create_invoice()
        self.assertFalse(second.invoice_id)
        self.assertEqual(line.qty_invoiced, 1.0)
        self.assertEqual(len(order.invoice_ids), 2)
        self.assertTrue(any("nothing left to invoice" in body for body in self._messages(second)))
