# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import format_date

MAX_LISTED = 24


class InvoiceFollowupRecurringStart(models.TransientModel):
    """Starting a schedule whose periods are billed before today: they are listed, and a person decides."""
    _name = 'invoice.followup.recurring.start'
    _description = "Recurring Schedule: Earlier Periods"

    recurring_id = fields.Many2one('invoice.followup.recurring', required=True, readonly=True, ondelete='cascade')
    date_confirm = fields.Date(
        string="Started On", required=True, readonly=True,
        help="Periods billed before this day are listed: the day the schedule starts (or was started).")
    period_count = fields.Integer(string="Earlier Periods", compute='_compute_periods')
    period_list = fields.Text(string="Periods", compute='_compute_periods')
    currency_id = fields.Many2one(related='recurring_id.currency_id')
    amount_total = fields.Monetary(
        string="Untaxed Amount", compute='_compute_periods', currency_field='currency_id',
        help="What invoicing the earlier periods bills, before taxes.")

    @api.depends('recurring_id', 'date_confirm')
    def _compute_periods(self):
        for wizard in self:
            schedule = wizard.recurring_id
            indexes = schedule._periods_before(wizard.date_confirm) if schedule else []
            wizard.period_count = len(indexes)
            wizard.amount_total = len(indexes) * sum(schedule.line_ids.mapped('price_subtotal'))
            lines = [
                self.env._("%(period)s, billed on %(date)s", period=schedule._period_label(*schedule._period(index)),
                           date=format_date(self.env, schedule._billing_date(index)))
                for index in indexes[:MAX_LISTED]
            ]
            if len(indexes) > MAX_LISTED:
                lines.append(self.env._("… and %(count)s more", count=len(indexes) - MAX_LISTED))
            wizard.period_list = "\n".join(lines)

    def action_invoice_past(self):
        """Invoice the earlier periods too: one invoice each, on the next run."""
        self.recurring_id._start(invoice_past=True, day=self.date_confirm)
        return {'type': 'ir.actions.act_window_close'}

    def action_skip_past(self):
        """Start from the next period: the earlier periods are not invoiced."""
        self.recurring_id._start(invoice_past=False, day=self.date_confirm)
        return {'type': 'ir.actions.act_window_close'}
