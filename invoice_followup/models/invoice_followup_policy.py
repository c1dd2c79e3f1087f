# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain


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

    @api.constrains('company_id')
    def _check_company_users(self):
        """A policy given to one company: its steps' templates must be that company's or shared, and no other
        company may follow it (as its default, a customer's, an invoice's or a recurring schedule's policy)."""
        self.step_ids._check_company()
        for policy in self.sudo().with_context(active_test=False).filtered('company_id'):
            company = policy.company_id
            uses = Domain('followup_policy_id', '=', policy.id)
            elsewhere = uses & Domain('company_id', '!=', company.id)
            others = self.env['res.company'].sudo().search([('id', '!=', company.id)])
            if (others.filtered_domain(uses)
                    or policy.env['account.move'].search_count(elsewhere, limit=1)
                    or policy.env['invoice.followup.recurring'].search_count(elsewhere, limit=1)
                    or any(policy.env['res.partner'].with_company(other).search_count(uses, limit=1)
                           for other in others)):
                raise UserError(self.env._(
                    "The follow-up policy “%(policy)s” is used by another company than %(company)s (as its default "
                    "policy, or by its customers, invoices or recurring schedules): it cannot belong to %(company)s "
                    "only. Duplicate it and give the copy to %(company)s instead.",
                    policy=policy.name, company=company.name))

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%(name)s (copy)", name=policy.name))
            for policy, vals in zip(self, vals_list, strict=True)
        ]
