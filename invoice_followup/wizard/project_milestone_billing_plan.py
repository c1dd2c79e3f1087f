# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

PRESETS = {
    'half': [50.0, 50.0],
    'thirds': [33.0, 33.0, 34.0],
}


class ProjectMilestoneBillingPlan(models.TransientModel):
    _name = 'project.milestone.billing.plan'
    _description = "Apply a Billing Plan to a Project's Milestones"

    project_id = fields.Many2one('project.project', required=True, ondelete='cascade')
    preset = fields.Selection(
        [('half', "50/50"), ('thirds', "33/33/34"), ('equal', "Equal shares")],
        required=True,
        default='half',
    )
    share_count = fields.Integer(string="Number of Shares", default=4)

    @api.constrains('preset', 'share_count')
    def _check_share_count(self):
        for plan in self:
            if plan.preset == 'equal' and not 1 <= plan.share_count <= 100:
                raise ValidationError(self.env._("A billing plan has between 1 and 100 equal shares."))

    def _get_shares(self):
        """Percentages of the plan; with equal shares the last one takes the rounding (100% exactly)."""
        self.ensure_one()
        if self.preset != 'equal':
            return PRESETS[self.preset]
        share = round(100.0 / self.share_count, 2)
        return [share] * (self.share_count - 1) + [round(100.0 - share * (self.share_count - 1), 2)]

    def action_apply(self):
        """Set the shares on the project's plan milestones in order, creating the missing milestones; milestones
        beyond the plan get no share."""
        self.ensure_one()
        project = self.project_id
        project.check_access('write')
        milestones = project._billing_plan_milestones()
        if milestones.filtered(lambda milestone: milestone.invoice_id and milestone.invoice_id.state != 'cancel'):
            raise UserError(self.env._(
                "Project “%(project)s” already has invoiced milestones: change the remaining shares by hand.",
                project=project.display_name))
        shares = self._get_shares()
        if not project.allow_milestones:
            project.allow_milestones = True
        last_sequence = max(milestones.mapped('sequence'), default=0)
        for index, percentage in enumerate(shares):
            if index < len(milestones):
                milestones[index].invoice_percentage = percentage
            else:
                last_sequence += 1
                milestones |= self.env['project.milestone'].create({
                    'project_id': project.id,
                    'name': self.env._("Milestone %(number)s", number=index + 1),
                    'sequence': last_sequence,
                    'invoice_percentage': percentage,
                })
        milestones[len(shares):].invoice_percentage = 0.0
        project.message_post(body=self.env._(
            "Billing plan applied: %(shares)s.", shares=" / ".join(f"{share:g}%" for share in shares)))
        return {'type': 'ir.actions.act_window_close'}
