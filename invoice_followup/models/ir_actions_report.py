# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

# Invoices per wkhtmltopdf call when reminders render missing PDFs. A call costs a fixed part (start, stylesheets)
# plus a part per document that grows with the call's size (each page reloads a header and a footer holding every
# document's): measured with the patched-Qt 0.12.4 build on 2 cores, 0.09 s per invoice in calls of 10, 0.10 s in
# calls of 20, 0.12 s in calls of 40, 0.19 s in one call of 180.
PDF_DOCUMENTS_PER_CALL = 20


class IrActionsReport(models.Model):
    _inherit = 'ir.actions.report'

    @api.model
    def _build_wkhtmltopdf_args(self, paperformat_id, landscape, specific_paperformat_args=None,
                                set_viewport_size=False):
        """Invoice PDFs rendered for reminders (context ``followup_invoice_pdf``) skip wkhtmltopdf's wait for
        scripts (``report.print_delay``, 1 s per call by default): an invoice builds nothing with JavaScript (its
        header and footer are filled in on load, before the delay starts), and that wait was half the cost of a
        batch of 20 invoices. Other reports keep the configured delay."""
        args = super()._build_wkhtmltopdf_args(
            paperformat_id, landscape, specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size)
        if self.env.context.get('followup_invoice_pdf') and '--javascript-delay' in args:
            args[args.index('--javascript-delay') + 1] = '0'
        return args
