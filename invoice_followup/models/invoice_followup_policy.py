# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class InvoiceFollowupPolicy(models.Model):
    _name = 'invoice.followup.policy'
    _description = "Invoice Follow-up Policy"
    _order = 'sequence, name, id'
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        'res.company',
        string="Company",
        index=True,
        help="Leave empty to share the policy between all companies.",
    )
    description = fields.Text(translate=True)
    step_ids = fields.One2many('invoice.followup.step', 'policy_id', string="Steps", copy=True)
    step_count = fields.Integer(compute='_compute_step_count', export_string_translation=False)
    min_amount = fields.Float(
        string="Minimum Amount Due",
        digits='Account',
        help="Invoices whose amount due is at or below this amount (in the invoice currency) are not reminded. "
        "Zero uses the company setting.",
    )
    max_reminders = fields.Integer(
        string="Reminders Before a Person Steps In",
        default=4,
        help="After this many reminders without payment, a collection case asks a person to call (0: never).",
    )
    high_value_amount = fields.Float(
        string="High-Value Threshold",
        digits='Account',
        help="Firm and final steps of invoices whose amount due (company currency) reaches this amount go to a "
        "person instead of being sent (0: never).",
    )
    collector_id = fields.Many2one(
        'res.users',
        string="Collector",
        domain="[('share', '=', False)]",
        help="Person who gets the call/to-do steps. Empty: the invoice's salesperson.",
    )

    @api.depends('step_ids')
    def _compute_step_count(self):
        for policy in self:
            policy.step_count = len(policy.step_ids)

    @api.constrains('min_amount', 'high_value_amount', 'max_reminders')
    def _check_min_amount(self):
        for policy in self:
            if policy.min_amount < 0 or policy.high_value_amount < 0 or policy.max_reminders < 0:
                raise ValidationError(self.env._("The amounts and counts of a follow-up policy cannot be negative."))

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%(name)s (copy)", name=policy.name))
            for policy, vals in zip(self, vals_list, strict=True)
        ]
