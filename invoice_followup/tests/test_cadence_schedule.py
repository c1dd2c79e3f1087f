# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from odoo.tests import tagged
from odoo.tools import SQL

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestCadenceSchedule(InvoiceFollowupCommon):
    """When the next reminder is due, which policy applies, and what a reminder asks for."""

    def test_next_date_follows_due_date_and_steps(self):
        invoice = self._followup_invoice(due='2026-01-31')
        self.assertEqual(invoice.followup_state, 'active')
        self.assertEqual(invoice.followup_policy_id, self.policy)
        self.assertEqual(invoice.followup_next_date, self._d('2026-01-24'))
        self.assertEqual(invoice.followup_next_step_id, self.step_before)
        self.assertEqual(invoice.followup_cycle_date, self._d('2026-01-31'))

    def test_draft_and_vendor_bills_are_not_followed(self):
        draft = self._followup_invoice(post=False)
        bill = self._create_invoice(move_type='in_invoice', invoice_date='2026-01-01', post=True)
        refund = self._create_invoice(move_type='out_refund', invoice_date='2026-01-01', post=True)
        for move in draft | bill | refund:
            self.assertEqual(move.followup_state, 'none')
            self.assertFalse(move.followup_next_date)

    def test_policy_falls_back_from_invoice_to_partner_to_company(self):
        other = self.policy.copy({'name': 'Partner policy'})
        third = self.policy.copy({'name': 'Invoice policy'})
        invoice = self._followup_invoice()
        self.assertEqual(invoice.followup_policy_id, self.policy, "company default")
        self.partner_a.followup_policy_id = other
        self.assertEqual(invoice.followup_policy_id, other, "an open invoice follows its customer's new policy")
        invoice.followup_policy_id = third
        self.assertTrue(invoice.followup_policy_manual)
        self.partner_a.followup_policy_id = self.policy
        self.assertEqual(invoice.followup_policy_id, third, "an override on the invoice wins")
        invoice.followup_policy_id = False
        self.assertEqual(invoice.followup_policy_id, self.policy, "emptying the override falls back")
        self.assertFalse(invoice.followup_policy_manual)

    def test_company_default_change_reaches_open_invoices(self):
        invoice = self._followup_invoice()
        paid = self._followup_invoice()
        self._register_payment(paid)
        other = self.policy.copy({'name': 'New default'})
        self.company.followup_policy_id = other
        self.assertEqual(invoice.followup_policy_id, other)
        self.assertEqual(paid.followup_policy_id, self.policy, "a paid invoice keeps the policy it was reminded with")

    def test_paid_partial_and_blocked_states(self):
        invoice = self._followup_invoice(amount=1000.0)
        self._register_payment(invoice, amount=400.0)
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertEqual(invoice.followup_state, 'active')
        self.assertEqual(invoice.followup_amount_due, 600.0)
        self._register_payment(invoice, amount=600.0)
        self.assertEqual(invoice.followup_state, 'done')
        self.assertFalse(invoice.followup_next_date)

        blocked = self._followup_invoice()
        blocked.action_toggle_block_payment()
        self.assertEqual(blocked.payment_state, 'blocked')
        self.assertEqual(blocked.followup_state, 'paused')
        self.assertFalse(blocked.followup_next_date)

    def test_excluded_invoice_and_customer(self):
        invoice = self._followup_invoice()
        invoice.action_followup_exclude()
        self.assertTrue(invoice.no_followup)
        self.assertEqual(invoice.followup_state, 'paused')
        invoice.action_followup_resume()
        self.assertEqual(invoice.followup_state, 'active')
        self.partner_a.followup_excluded = True
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertFalse(invoice.followup_next_date)

    def test_minimum_amount(self):
        small = self._followup_invoice(amount=20.0)
        self.assertEqual(small.followup_state, 'active')
        self.company.followup_min_amount = 50.0
        self.assertEqual(small.followup_state, 'done')
        self.policy.min_amount = 10.0
        self.assertEqual(small.followup_state, 'active', "the policy's own minimum wins over the company's")

    def test_pause_until_date_schedules_the_resume(self):
        invoice = self._followup_invoice(due='2026-01-31')
        wizard = self.env['account.move.followup.pause'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({'date_until': '2026-02-20'})
        with self._at('2026-01-10'):
            wizard.action_pause()
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertEqual(invoice.followup_next_date, self._d('2026-02-20'), "the cron resumes it on that day")

    def test_installments_cycle_on_the_earliest_open_installment(self):
        invoice = self._followup_invoice(
            amount=1000.0, invoice_date='2026-01-01', invoice_payment_term_id=self.term_30_70.id)
        self.assertEqual(invoice.invoice_date_due, self._d('2026-03-02'), "core's due date is the last installment")
        self.assertEqual(invoice.followup_cycle_date, self._d('2026-01-01'))
        self.assertEqual(invoice.followup_next_date, self._d('2025-12-25'), "-7 days from installment 1")
        values = invoice._followup_amount_values(self._d('2026-01-10'))
        self.assertEqual(values['amount'], 300.0, "the reminder asks for the overdue installment only")
        self.assertTrue(values['is_installment'])
        self.assertEqual(values['days_overdue'], 9)

        self._register_payment(invoice, amount=300.0)
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertEqual(invoice.followup_cycle_date, self._d('2026-03-02'), "the next installment starts a new cycle")
        self.assertEqual(invoice.followup_next_date, self._d('2026-02-23'))
        self.assertEqual(invoice._followup_amount_values(self._d('2026-02-23'))['amount'], 700.0)

    def test_business_days_move_steps_off_weekends_and_holidays(self):
        # 2026-01-31 is a Saturday; 2026-02-02 (Monday) is a company holiday.
        self.company.resource_calendar_id.tz = 'UTC'
        self.env['resource.calendar.leaves'].create({
            'name': 'Company holiday',
            'calendar_id': self.company.resource_calendar_id.id,
            'company_id': self.company.id,
            'date_from': datetime(2026, 2, 2, 0, 0),
            'date_to': datetime(2026, 2, 2, 23, 59),
        })
        invoice = self._followup_invoice(due='2026-01-31')
        self.policy.step_ids.filtered(lambda step: step.offset_days < 0).unlink()
        self.assertEqual(invoice.followup_next_date, self._d('2026-01-31'))
        self.company.followup_business_days = True
        self.assertEqual(invoice.followup_next_date, self._d('2026-02-03'), "Saturday → Monday (holiday) → Tuesday")

    def test_template_values_in_foreign_currency(self):
        currency = self.setup_other_currency('EUR', rates=[('2025-01-01', 2.0)])
        invoice = self._followup_invoice(amount=1000.0, currency_id=currency.id)
        values = invoice._followup_amount_values(self._d('2026-02-10'))
        self.assertEqual(values['amount'], 1000.0)
        self.assertEqual(values['amount_company'], 500.0, "converted at the rate of the day the reminder is sent")
        self.assertEqual(values['days_overdue'], 10)
        self.assertIn('Thousand', values['amount_words'])
        self.assertIn('#portal_pay', invoice.followup_payment_url)
        self.assertIn('payment_token=', invoice.followup_payment_url)
        self.assertIn('/invoice_followup/respond/', invoice.followup_portal_url)

    def test_adding_an_earlier_step_never_goes_back_in_tone(self):
        invoice = self._followup_invoice(due='2026-01-31')
        self.env['invoice.followup.log'].sudo().create({
            'move_id': invoice.id, 'step_id': self.step_late_7.id, 'cycle_key': '2026-01-31',
            'date': '2026-02-07', 'currency_id': invoice.currency_id.id,
        })
        self.assertEqual(invoice.followup_next_step_id, self.step_late_14)
        self.env['invoice.followup.step'].create({
            'policy_id': self.policy.id, 'name': 'Three days late', 'offset_days': 3,
            'mail_template_id': self.template_polite.id,
        })
        self.assertEqual(invoice.followup_next_step_id, self.step_late_14)

    def test_selecting_due_invoices_is_one_indexed_query(self):
        self._followup_invoice(due='2026-01-31')
        for _i in range(30):  # invoices out of follow-up (paid, drafts...) have no next date: not in the index
            self._followup_invoice(post=False)
        self.env.flush_all()
        self.env.cr.execute("ANALYZE account_move")
        domain = self.env['account.move']._followup_due_domain(self.company, self._d('2026-02-07'))
        with self.assertQueryCount(1):
            self.env['account.move'].search(domain)
        query = self.env['account.move']._search(domain)
        self.env.cr.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny: ask which index is picked
        self.env.cr.execute(SQL("EXPLAIN %s", query.select()))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute("RESET enable_seqscan")
        self.assertIn('account_move__followup_next_date_index', plan, plan)
