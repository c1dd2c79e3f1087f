# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from ..const import STEP_CHANNELS


class InvoiceFollowupPreviewLine(models.TransientModel):
    _name = 'invoice.followup.preview.line'
    _description = "Invoice Reminder Preview Line"
    _order = 'partner_id, move_id'

    preview_id = fields.Many2one('invoice.followup.preview', required=True, ondelete='cascade')
    move_id = fields.Many2one('account.move', string="Invoice", required=True)
    partner_id = fields.Many2one('res.partner', string="Customer")
    step_id = fields.Many2one('invoice.followup.step', string="Step")
    channel = fields.Selection(STEP_CHANNELS, help="How the reminder goes out (SMS: an SMS step, or an e-mail step's "
                               "SMS fallback when the e-mail bounced or there is none).")
    step_date = fields.Date()
    amount_due = fields.Monetary(currency_field='currency_id')
    currency_id = fields.Many2one('res.currency')
    recipient = fields.Char(string="Sent To", help="Where the e-mail (or the SMS) would go.")
    note = fields.Char(help="Why this reminder would not go out as planned.")
    send_at = fields.Char(string="Customer's Time", help="When the step goes out, at the customer's hour.")
    hold = fields.Selection(
        selection='_selection_hold', string="Held",
        help="Why the step due is not sent that day (empty: it is sent).")

    def _selection_hold(self):
        return list(self.env['invoice.followup.planner']._hold_labels().items())
