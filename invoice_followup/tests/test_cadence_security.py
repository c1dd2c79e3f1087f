# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestCadenceSecurity(InvoiceFollowupCommon):
    """Billing users see and pause, managers configure, others see nothing; companies stay apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env, 'followup_billing', groups='base.group_user,account.group_account_invoice',
            company_id=cls.company.id)
        cls.basic_user = new_test_user(cls.env, 'followup_basic', groups='base.group_user', company_id=cls.company.id)
        cls.portal_user = new_test_user(cls.env, 'followup_portal', groups='base.group_portal')
        cls.invoice = cls._followup_invoice()

    def test_billing_user_works_reminders_but_not_policies(self):
        invoice = self.invoice.with_user(self.billing_user)
        with self._at('2026-01-10'):
            invoice.action_followup_send_now()
        self.assertEqual(len(self.env['invoice.followup.log'].with_user(self.billing_user).search(
            [('move_id', '=', invoice.id)])), 1)
        with self._at('2026-01-10'):
            self.env['account.move.followup.pause'].with_user(self.billing_user).with_context(
                active_model='account.move', active_ids=invoice.ids).create({'date_until': '2026-01-20'}).action_pause()
        self.assertEqual(self.invoice.followup_state, 'paused')
        policy = self.policy.with_user(self.billing_user)
        self.assertTrue(policy.name)
        with self.assertRaises(AccessError):
            policy.name = 'Mine now'
        with self.assertRaises(AccessError):
            self.env['invoice.followup.policy'].with_user(self.billing_user).create({'name': 'New'})
        with self.assertRaises(AccessError):
            self.step_due.with_user(self.billing_user).offset_days = 3

    def test_others_cannot_read_or_act(self):
        log = self.env['invoice.followup.log'].sudo().create({
            'move_id': self.invoice.id, 'step_id': self.step_due.id, 'cycle_key': '2026-01-31',
            'currency_id': self.invoice.currency_id.id,
        })
        for user in (self.basic_user, self.portal_user):
            with self.assertRaises(AccessError):
                log.with_user(user).read(['state'])
            with self.assertRaises(AccessError):
                self.invoice.with_user(user).action_followup_send_now()
            with self.assertRaises(AccessError):
                self.policy.with_user(user).read(['name'])

    def test_companies_stay_apart(self):
        other = self.setup_other_company(name='Other Company')
        company_b = other['company']
        company_b.write({'email': 'billing@other.example', 'followup_policy_id': self.policy.id})
        invoice_b = self._create_invoice(
            invoice_date='2026-01-01', invoice_date_due='2026-01-31', partner_id=self.partner_b.id,
            company_id=company_b.id, journal_id=other['default_journal_sale'].id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=500.0, product_id=self.product_a, tax_ids=[])],
        )
        with self._at('2026-02-07'):
            self._run_cron()
        log_a = self._logs(self.invoice)
        log_b = self._logs(invoice_b)
        self.assertTrue(log_a and log_b, "one run reminds every company")
        self.assertEqual(log_b.company_id, company_b)
        self.assertIn('Other Company', log_b.mail_message_id.subject)
        self.assertEqual(log_b.mail_message_id.record_company_id, company_b)
        self.assertEqual(log_a.mail_message_id.record_company_id, self.company)

        Log = self.env['invoice.followup.log'].with_user(self.billing_user)
        visible = Log.search([])
        self.assertIn(log_a, visible)
        self.assertEqual(visible.company_id, self.company, "a user of company A sees only A's reminders")
        with self.assertRaises(AccessError):
            log_b.with_user(self.billing_user).read(['state'])
        with self.assertRaises(AccessError):
            invoice_b.with_user(self.billing_user).read(['name'])

    def test_cases_billing_users_work_them_managers_configure(self):
        case = self.env['invoice.followup.case']._followup_open(self.invoice, 'dispute')
        as_billing = case.with_user(self.billing_user)
        as_billing.action_schedule_call()
        as_billing.action_resolve()
        self.assertFalse(case.is_open)
        with self.assertRaises(AccessError):
            as_billing.unlink()
        with self.assertRaises(AccessError):
            self.env.ref('invoice_followup.case_stage_new').with_user(self.billing_user).name = 'Mine'
        for user in (self.basic_user, self.portal_user):
            with self.assertRaises(AccessError):
                case.with_user(user).read(['reason'])

    def test_cases_stay_in_their_company(self):
        other = self.setup_other_company(name='Third Company')
        company_b = other['company']
        invoice_b = self._create_invoice(
            invoice_date='2026-01-01', invoice_date_due='2026-01-31', partner_id=self.partner_b.id,
            company_id=company_b.id, journal_id=other['default_journal_sale'].id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=500.0, product_id=self.product_a, tax_ids=[])],
        )
        case_b = self.env['invoice.followup.case']._followup_open(invoice_b, 'dispute')
        self.assertEqual(case_b.company_id, company_b)
        Case = self.env['invoice.followup.case'].with_user(self.billing_user)
        self.assertFalse(Case.search([('id', '=', case_b.id)]))
        with self.assertRaises(AccessError):
            case_b.with_user(self.billing_user).read(['reason'])

    def test_consolidated_reminder_is_read_only_by_who_reads_the_invoices(self):
        self.company.followup_consolidate = True
        older = self._followup_invoice(amount=500.0, due='2026-01-24')
        invoices = self.invoice | older
        company_b = self.env['res.company'].create({'name': 'Elsewhere Ltd'})
        other_company_user = new_test_user(
            self.env, 'followup_elsewhere', groups='base.group_user,account.group_account_invoice',
            company_id=company_b.id, company_ids=[Command.set(company_b.ids)])
        with self._at('2026-02-07'):
            self._run_cron()
        message = self._logs(invoices).mail_message_id
        self.assertEqual(len(message), 1, "one e-mail for both invoices")
        mails = self.env['mail.mail'].search([('recipient_ids', 'in', self.partner_a.ids)])
        self.assertEqual(len(mails), 1, "the customer gets one e-mail")
        self.assertEqual(mails.mail_message_id, message)
        self.assertIn(older.name, message.body)
        self.assertEqual(message.with_user(self.billing_user).body, message.body, "billing users read it")
        for user in (self.basic_user, other_company_user):
            self.partner_a.with_user(user).check_access('read')  # they do read the customer...
            with self.assertRaises(AccessError):  # ...but not the reminder
                message.with_user(user).read(['body'])
            seen = self.env['mail.message'].with_user(user).search(
                [('model', '=', 'res.partner'), ('res_id', '=', self.partner_a.id)])
            self.assertNotIn(message, seen)
            for other in seen.sudo():
                self.assertNotIn(older.name, str(other.body))
