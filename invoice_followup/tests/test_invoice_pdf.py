# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import shutil
import subprocess
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from odoo.addons.base.models import ir_actions_report
from odoo.addons.invoice_followup.models import account_move_followup_delivery
from odoo.addons.invoice_followup.tools import reminder_batch

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestInvoicePdf(InvoiceFollowupCommon, HttpCase):
    """Invoice PDFs rendered the way the reminder cron renders them (``account.move._followup_ensure_pdfs``: the
    missing PDFs of a batch, in one wkhtmltopdf call), by a real wkhtmltopdf fetching the report's styles from the
    server the way a cron worker does (``report.url``, else ``web.base.url``: here the test server)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({
            'name': 'Harbourside Tools Ltd', 'street': '12 Quay Street', 'zip': '40213', 'city': 'Dusseldorf',
        })
        cls.partner_b.lang = 'en_US'

    def _skip_without_tools(self):
        if ir_actions_report._wkhtml().state == 'install':
            self.skipTest("no wkhtmltopdf installed (scripts/setup.sh installs one): no PDF can be rendered")
        if not (shutil.which('pdftotext') and shutil.which('pdffonts')):
            self.skipTest("poppler-utils (pdftotext, pdffonts) is not installed: run scripts/setup.sh as root")

    def _prepare_pdfs(self, moves):
        """The cron's PDF step on ``moves``; return its result and the wkhtmltopdf calls made."""
        calls = []
        run = ir_actions_report._run_wkhtmltopdf  # HttpCase's: lets wkhtmltopdf's requests reach the test server

        def counted(args):
            calls.append(args)
            return run(args)

        moves = moves.with_context(force_report_rendering=True)
        # The cron commits the rendered PDFs; the test's transaction stands in for that commit.
        with self._at('2026-02-07'), patch.object(ir_actions_report, '_run_wkhtmltopdf', counted), \
                patch.object(self.env.cr, 'commit', self.env.cr.flush):
            self.assertTrue(reminder_batch.can_batch_pdf(moves.env),
                            "wkhtmltopdf with patched Qt (scripts/setup.sh) renders several invoices per call")
            return {move.id: pdf for move, pdf in moves._followup_ensure_pdfs().items()}, calls

    def _poppler(self, tool, raw):
        return subprocess.run([tool, '-', '-'] if tool == 'pdftotext' else [tool, '-'], input=raw,
                              capture_output=True, check=True).stdout.decode()

    def test_cron_batch_renders_styled_invoices_with_company_header(self):
        self._skip_without_tools()
        first = self._followup_invoice(amount=1000.0)
        second = self._followup_invoice(amount=500.0, partner=self.partner_b)
        moves = first | second
        self.assertFalse(first.invoice_pdf_report_id | second.invoice_pdf_report_id)
        pdfs, calls = self._prepare_pdfs(moves)

        self.assertEqual(len(calls), 1, "both missing PDFs in one wkhtmltopdf call")
        args = calls[0]
        self.assertEqual(args[args.index('--javascript-delay') + 1], '0',
                         "an invoice runs no script to wait for: no report.print_delay (1 s per call by default)")
        self.assertEqual(set(pdfs), set(moves.ids))
        for move, other in ((first, second), (second, first)):
            raw = pdfs[move.id].raw
            self.assertTrue(raw.startswith(b'%PDF'), "a real PDF, not the HTML Odoo renders under tests")
            text = ' '.join(self._poppler('pdftotext', raw).split())
            self.assertIn(move.name, text)
            self.assertNotIn(other.name, text, "each invoice its own PDF")
            # The company header and footer: only wkhtmltopdf with patched Qt prints them.
            self.assertIn('Harbourside Tools Ltd', text)
            self.assertIn('12 Quay Street', text)
            self.assertIn('Dusseldorf 40213', text)
            # Styled: the report's stylesheet (fetched over HTTP) sets the company's font, Lato; unstyled, it
            # would be wkhtmltopdf's default serif.
            self.assertIn('Lato', self._poppler('pdffonts', raw))

    def test_big_batches_render_in_calls_of_a_few_dozen(self):
        self._skip_without_tools()
        moves = self._followup_invoice(amount=100.0) | self._followup_invoice(amount=200.0) \
            | self._followup_invoice(amount=300.0)
        with patch.object(account_move_followup_delivery, 'PDF_DOCUMENTS_PER_CALL', 2):
            pdfs, calls = self._prepare_pdfs(moves)
        self.assertEqual(len(calls), 2, "3 invoices, 2 per call")
        for move in moves:
            text = self._poppler('pdftotext', pdfs[move.id].raw)
            self.assertEqual([name for name in moves.mapped('name') if name in text], [move.name])

    def test_statement_pdf_with_company_header_items_and_totals(self):
        """The customer statement, rendered as the reminder cron renders it (``invoice.followup.statement``)."""
        self._skip_without_tools()
        overdue = self._followup_invoice(amount=1000.0, due='2026-01-31')
        not_due = self._followup_invoice(amount=400.0, invoice_date='2026-02-01', due='2026-03-03')
        euro = self._followup_invoice(amount=300.0, due='2026-01-20', currency_id=self.setup_other_currency(
            'EUR', rates=[('2025-01-01', 2.0)]).id)
        statement = self.env['invoice.followup.statement'].with_context(force_report_rendering=True)
        with self._at('2026-02-07'):
            _name, raw = statement._render_pdf(self.partner_a, self.company)
        self.assertTrue(raw.startswith(b'%PDF'))
        text = ' '.join(self._poppler('pdftotext', raw).split())
        for expected in ('Harbourside Tools Ltd', '12 Quay Street', 'Statement of Account', self.partner_a.name,
                         overdue.name, not_due.name, euro.name, 'Total open $ 1,400.00', 'Total overdue $ 1,000.00',
                         'To pay now $ 1,000.00', 'In EUR', 'Total open 300.00 €'):
            self.assertIn(expected, text)

    def test_statements_of_a_batch_render_several_per_call(self):
        self._skip_without_tools()
        first = self._followup_invoice(amount=1000.0)
        second = self._followup_invoice(amount=500.0, partner=self.partner_b)
        statement = self.env['invoice.followup.statement'].with_context(force_report_rendering=True)
        calls = []
        run = ir_actions_report._run_wkhtmltopdf

        def counted(args):
            calls.append(args)
            return run(args)

        with self._at('2026-02-07'), patch.object(ir_actions_report, '_run_wkhtmltopdf', counted):
            statement._render_pdfs(self.partner_a | self.partner_b, self.company)
            pdfs = {partner: statement._render_pdf(partner, self.company)[1] for partner in (self.partner_a,
                                                                                             self.partner_b)}
        self.assertEqual(len(calls), 1, "both statements in one wkhtmltopdf call, taken by the e-mails")
        self.assertEqual(calls[0][calls[0].index('--javascript-delay') + 1], '0')
        for partner, mine, other in ((self.partner_a, first, second), (self.partner_b, second, first)):
            text = ' '.join(self._poppler('pdftotext', pdfs[partner]).split())
            self.assertIn(mine.name, text)
            self.assertNotIn(other.name, text, "each customer its own statement")
