# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command


class InvoiceFollowupPreview(models.TransientModel):
    """What the reminder cron would do on a given date, without sending anything."""

    _name = 'invoice.followup.preview'
    _description = "Invoice Reminder Preview"

    date = fields.Date(required=True, default=lambda self: self._default_date())
    company_id = fields.Many2one('res.company', required=True, default=lambda self: self.env.company)
    line_ids = fields.One2many(
        'invoice.followup.preview.line', 'preview_id', string="Reminders",
        compute='_compute_line_ids', store=True, readonly=True,
    )
    line_count = fields.Integer(compute='_compute_line_ids', store=True)

    def _default_date(self):
        return self.env.company._followup_today()

    @api.depends('date', 'company_id')
    def _compute_line_ids(self):
        for preview in self:
            if not preview.date or not preview.company_id:
                preview.line_ids = [Command.clear()]
                preview.line_count = 0
                continue
            today = preview.company_id._followup_today()
            if preview.date < today:
                raise UserError(self.env._("The preview shows what is still to come: choose today or a later date."))
            lines = self.env['invoice.followup.planner'].with_company(preview.company_id)._preview_lines(
                preview.company_id, preview.date)
            preview.line_ids = [Command.clear()] + [Command.create(vals) for vals in lines]
            preview.line_count = len([line for line in lines if not line['hold']])
