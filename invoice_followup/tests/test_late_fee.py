# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestLateFee(InvoiceFollowupCommon):
    """A step may charge a late fee once per invoice, as a separate invoice stated in the reminder; off by default."""

    def _fees(self, invoice):
        return self.env['account.move'].search([('followup_fee_for_id', '=', invoice.id)])

    def test_off_by_default(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)
        self.assertFalse(self._fees(invoice))

    def test_fixed_fee_charged_once_and_stated_in_the_reminder(self):
        (self.step_late_7 | self.step_late_14).write({'late_fee_type': 'fixed', 'late_fee_amount': 40.0})
        invoice = self._followup_invoice(amount=1000.0)
        with self._at('2026-02-07'):
            self._run_cron()
        fee = self._fees(invoice)
        self.assertEqual(len(fee), 1)
        self.assertEqual((fee.state, fee.amount_total, fee.partner_id), ('posted', 40.0, invoice.partner_id))
        self.assertEqual(invoice.followup_late_fee_id, fee)
        self.assertIn(fee.name, self._logs(invoice).mail_id.body_html, "the reminder says so")
        self.assertIn('40.00', self._logs(invoice).mail_id.body_html)
        self.assertFalse(fee.followup_policy_id, "a fee invoice is not reminded itself")
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7 | self.step_late_14)
        self.assertEqual(self._fees(invoice), fee, "never twice")

    def test_interest_for_the_days_late_with_a_cap(self):
        self.step_late_14.write({'late_fee_type': 'interest', 'late_fee_rate': 12.0})
        invoice = self._followup_invoice(amount=3650.0)
        large = self._followup_invoice(amount=36500.0, partner=self.partner_b)
        with self._at('2026-02-14'):
            self._run_cron()
        # 3,650 at 12% a year for 14 days late: 3650 * 0.12 * 14 / 365 = 16.80
        self.assertEqual(self._fees(invoice).amount_total, 16.8)
        self.assertEqual(self._fees(large).amount_total, 168.0)
        self.step_late_14.late_fee_cap = 100.0
        self.assertEqual(large._followup_late_fee_amount(self.step_late_14, self._d('2026-02-14')), 100.0, "capped")
        self.assertEqual(invoice._followup_late_fee_amount(self.step_late_14, self._d('2026-02-14')), 16.8)

    def test_never_on_a_disputed_invoice(self):
        self.step_late_7.write({'late_fee_type': 'fixed', 'late_fee_amount': 40.0})
        invoice = self._followup_invoice()
        self.env['invoice.followup.case']._followup_open(invoice, 'dispute', dispute_reason='amount')
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(self._fees(invoice))
        self.assertFalse(self._logs(invoice))

    def test_bad_settings_are_refused(self):
        with self.assertRaises(ValidationError):
            self.step_late_7.write({'late_fee_type': 'fixed', 'late_fee_amount': 0.0})
        with self.assertRaises(ValidationError):
            self.step_late_7.write({'late_fee_type': 'interest', 'late_fee_rate': 0.0})
