# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestUnappliedPayment(InvoiceFollowupCommon):
    """A customer who already paid, the payment not yet matched to the invoice, is never chased: a person reconciles."""

    def _unmatched_payment(self, amount, partner=None, currency=None):
        payment = self.env['account.payment'].create({
            'payment_type': 'inbound', 'partner_type': 'customer', 'partner_id': (partner or self.partner_a).id,
            'amount': amount, 'currency_id': (currency or self.company.currency_id).id,
            'journal_id': self.company_data['default_journal_bank'].id, 'date': '2026-02-01',
        })
        payment.action_post()
        return payment

    def _case(self):
        return self.env['invoice.followup.case'].search(
            [('reason', '=', 'unapplied_payment'), ('partner_id', '=', self.partner_a.id), ('is_open', '=', True)])

    def _preview(self, day):
        return {line['move_id']: line for line in self.env['invoice.followup.planner']._preview_lines(
            self.company, self._d(day))}

    def test_unmatched_payment_holds_the_reminder_until_reconciled(self):
        invoice = self._followup_invoice(amount=1000.0)
        self._unmatched_payment(1000.0)
        with self._at('2026-02-07'):
            self.assertEqual(self._preview('2026-02-07')[invoice.id]['hold'], 'unapplied_payment',
                             "the preview shows the hold")
            self._run_cron()
        self.assertFalse(self._logs(invoice), "not chased: the customer paid")
        case = self._case()
        self.assertEqual(case.move_ids, invoice, "one case asks a person to reconcile")
        self.assertEqual(invoice.followup_state, 'active')

        # Reconciled: the invoice is paid, the case closes itself, nothing is ever sent.
        credit_line = self.env['account.move.line'].search([
            ('partner_id', '=', self.partner_a.id), ('account_type', '=', 'asset_receivable'),
            ('reconciled', '=', False), ('balance', '<', 0)])
        invoice.js_assign_outstanding_line(credit_line.id)
        self.assertEqual(invoice.payment_state in ('paid', 'in_payment'), True)
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertFalse(case.is_open)
        self.assertFalse(self._logs(invoice))

    def test_credit_note_partly_covering_then_the_rest_is_reminded(self):
        invoice = self._followup_invoice(amount=1000.0)
        other = self._followup_invoice(amount=250.0)
        refund = self._create_invoice(
            move_type='out_refund', invoice_date='2026-02-01', partner_id=self.partner_a.id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=400.0, product_id=self.product_a, tax_ids=[])])
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._logs(invoice | other).move_id, invoice, "400 covers the 250, not the 1,000")
        self.assertEqual(self._case().move_ids, other)

        # The credit note is matched with the 1,000 invoice: nothing is left to reconcile, the case closes and the
        # 250 invoice is reminded again at its next step.
        credit_line = refund.line_ids.filtered(lambda line: line.account_type == 'asset_receivable')
        invoice.js_assign_outstanding_line(credit_line.id)
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertFalse(self._case())
        self.assertEqual(self._logs(other).step_id, self.step_late_14)
        self.assertEqual(self._logs(invoice).mapped('amount_due')[-1], 600.0, "only what is still due")

    def test_other_currency_or_customer_credit_does_not_hold(self):
        invoice = self._followup_invoice(amount=1000.0)
        self._unmatched_payment(5000.0, partner=self.partner_b)
        self._unmatched_payment(5000.0, currency=self.setup_other_currency('EUR', rates=[('2025-01-01', 2.0)]))
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)
        self.assertFalse(self._case())
