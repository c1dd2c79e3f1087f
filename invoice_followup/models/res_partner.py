# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.fields import Domain


class ResPartner(models.Model):
    _inherit = 'res.partner'

    followup_policy_id = fields.Many2one(
        'invoice.followup.policy',
        string="Follow-up Policy",
        company_dependent=True,
        help="Reminder policy for this customer's invoices. Empty: the company's default policy.",
    )
    followup_excluded = fields.Boolean(
        string="No Automatic Reminders",
        help="Never send automatic reminders to this customer.",
    )
    followup_log_count = fields.Integer(compute='_compute_followup_log_count', export_string_translation=False)
    followup_reminder_move_ids = fields.Many2many(
        'account.move',
        compute='_compute_followup_reminder_move_ids',
        export_string_translation=False,
        help="Invoices a consolidated reminder is about: those given in the context by the cron, "
        "else the customer's invoices under active follow-up (template preview).",
    )

    def _compute_followup_log_count(self):
        counts = dict(self.env['invoice.followup.log']._read_group(
            [('partner_id', 'in', self.commercial_partner_id.ids), ('state', '!=', 'cancel')],
            ['partner_id'], ['__count'],
        ))
        for partner in self:
            partner.followup_log_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends_context('invoice_followup_move_ids')
    def _compute_followup_reminder_move_ids(self):
        move_ids = self.env.context.get('invoice_followup_move_ids')
        Move = self.env['account.move']
        for partner in self:
            if move_ids is not None:
                moves = Move.browse(move_ids).filtered(
                    lambda move, partner=partner: move.commercial_partner_id == partner.commercial_partner_id)
            else:
                moves = Move.search([
                    ('commercial_partner_id', '=', partner.commercial_partner_id.id),
                    ('followup_state', '=', 'active'),
                ], order='invoice_date_due, id')
            partner.followup_reminder_move_ids = moves

    def write(self, vals):
        res = super().write(vals)
        if 'followup_policy_id' in vals:
            self.env['account.move']._followup_propagate_policy(
                Domain('commercial_partner_id', 'in', self.commercial_partner_id.ids)
                & Domain('company_id', '=', self.env.company.id))
        return res

    def action_view_followup_logs(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_log_action')
        action['domain'] = [('partner_id', '=', self.commercial_partner_id.id)]
        action['context'] = {'search_default_group_by_move': 0}
        return action
