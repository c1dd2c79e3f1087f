# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError


class AccountMoveFollowupPause(models.TransientModel):
    _name = 'account.move.followup.pause'
    _description = "Pause Invoice Reminders"

    move_ids = fields.Many2many('account.move', string="Invoices", required=True)
    date_until = fields.Date(string="Pause Until", required=True)
    reason = fields.Char()

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if self.env.context.get('active_model') == 'account.move' and 'move_ids' in fields_list:
            res['move_ids'] = [fields.Command.set(self.env.context.get('active_ids', []))]
        return res

    def action_pause(self):
        self.ensure_one()
        self.move_ids.check_access('write')
        today = fields.Date.context_today(self)
        if self.date_until <= today:
            raise UserError(self.env._("Choose a date after today to pause the reminders until."))
        if any(move.followup_state in ('none', 'done') for move in self.move_ids):
            raise UserError(self.env._("Only invoices that are being reminded can be paused."))
        self.move_ids.write({'followup_paused_until': self.date_until})
        body = self.env._("Reminders paused until %(date)s.", date=fields.Date.to_string(self.date_until))
        if self.reason:
            body = self.env._("%(message)s Reason: %(reason)s", message=body, reason=self.reason)
        for move in self.move_ids:
            move.message_post(body=body)
        return {'type': 'ir.actions.act_window_close'}
