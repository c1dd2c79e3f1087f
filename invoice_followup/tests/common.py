# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import date, datetime

from odoo.fields import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.mail.tests.common import MailCommon, freeze_all_time


class InvoiceFollowupCommon(AccountTestInvoicingCommon, MailCommon):
    """Invoices of partner_a under a four-step policy (-7, 0, +7, +14 days), with e-mail tracking on."""

    @classmethod
    def default_env_context(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data['company']
        cls.company.write({'email': 'billing@company.example', 'followup_automation': True})
        cls.partner_a.write({'email': 'customer.a@example.com', 'lang': 'en_US'})
        cls.partner_b.write({'email': 'customer.b@example.com'})
        cls.template_friendly = cls.env.ref('invoice_followup.mail_template_followup_friendly')
        cls.template_polite = cls.env.ref('invoice_followup.mail_template_followup_polite')
        cls.template_firm = cls.env.ref('invoice_followup.mail_template_followup_firm')
        cls.template_final = cls.env.ref('invoice_followup.mail_template_followup_final')
        cls.policy = cls.env['invoice.followup.policy'].create({
            'name': 'Test cadence',
            'step_ids': [
                Command.create({'name': 'Before', 'sequence': 1, 'offset_days': -7, 'tone': 'friendly',
                                'mail_template_id': cls.template_friendly.id}),
                Command.create({'name': 'On the day', 'sequence': 2, 'offset_days': 0, 'tone': 'polite',
                                'mail_template_id': cls.template_polite.id}),
                Command.create({'name': 'Week late', 'sequence': 3, 'offset_days': 7, 'tone': 'firm',
                                'mail_template_id': cls.template_firm.id}),
                Command.create({'name': 'Two weeks late', 'sequence': 4, 'offset_days': 14, 'tone': 'final',
                                'mail_template_id': cls.template_final.id}),
            ],
        })
        cls.step_before, cls.step_due, cls.step_late_7, cls.step_late_14 = cls.policy.step_ids
        cls.company.followup_policy_id = cls.policy
        cls.cron = cls.env.ref('invoice_followup.ir_cron_send_reminders')
        cls.term_30_70 = cls.env['account.payment.term'].create({
            'name': '30% now, 70% in 60 days',
            'line_ids': [
                Command.create({'value': 'percent', 'value_amount': 30.0, 'nb_days': 0}),
                Command.create({'value': 'percent', 'value_amount': 70.0, 'nb_days': 60}),
            ],
        })

    @classmethod
    def _followup_invoice(cls, amount=1000.0, invoice_date='2026-01-01', due='2026-01-31', partner=None, post=True,
                          **kwargs):
        """A posted customer invoice of ``amount`` without taxes, due on ``due`` (unless a payment term is given)."""
        values = {}
        if due and 'invoice_payment_term_id' not in kwargs:
            values = {'invoice_payment_term_id': False, 'invoice_date_due': due}
        return cls._create_invoice(
            invoice_date=invoice_date,
            partner_id=(partner or cls.partner_a).id,
            invoice_line_ids=[cls._prepare_invoice_line(price_unit=amount, product_id=cls.product_a, tax_ids=[])],
            post=post,
            **values,
            **kwargs,
        )

    def _run_cron(self):
        """Run the reminder cron the way Odoo's cron worker does (progress, commits as savepoints)."""
        with self.enter_registry_test_mode():
            self.cron.method_direct_trigger()
        self.env.invalidate_all()

    @contextmanager
    def _at(self, day, hour='12:00:00'):
        """Freeze the clock (Python and every cursor's now()) on ``day`` at ``hour`` UTC."""
        with freeze_all_time(datetime.fromisoformat(f'{day} {hour}')):
            yield

    def _warns(self):
        """A failure is logged as a warning by the add-on (and kept out of the test run's log)."""
        return self.assertLogs('odoo.addons.invoice_followup', level='WARNING')

    def _logs(self, moves, states=('sent',)):
        return self.env['invoice.followup.log'].search(
            [('move_id', 'in', moves.ids), ('state', 'in', states)], order='id')

    @staticmethod
    def _d(value):
        return date.fromisoformat(value)
