# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
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

    def _compute_followup_log_count(self):
        counts = dict(self.env['invoice.followup.log']._read_group(
            [('partner_id', 'in', self.commercial_partner_id.ids), ('state', '!=', 'cancel')],
            ['partner_id'], ['__count'],
        ))
        for partner in self:
            partner.followup_log_count = counts.get(partner.commercial_partner_id, 0)

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
