# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class InvoiceFollowupCasePlanLine(models.Model):
    _name = 'invoice.followup.case.plan.line'
    _description = "Payment Plan Installment"
    _order = 'date, id'

    case_id = fields.Many2one('invoice.followup.case', required=True, index=True, ondelete='cascade')
    company_id = fields.Many2one(related='case_id.company_id', store=True)
    move_id = fields.Many2one(
        'account.move', string="Invoice", compute='_compute_move_id', store=True, readonly=False, precompute=True,
        index='btree_not_null', ondelete='cascade',
        help="The invoice this installment pays: each invoice of a case has its own plan.")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True, currency_field='currency_id')
    currency_id = fields.Many2one(related='case_id.currency_id')
    is_checked = fields.Boolean(
        string="Checked", help="Its date has passed and the payments were on track.", copy=False)

    _positive_amount = models.Constraint("CHECK (amount > 0)", "An installment must be a positive amount.")

    @api.depends('case_id.move_ids')
    def _compute_move_id(self):
        """An installment of a case with a single invoice pays that invoice."""
        for line in self:
            line.move_id = line.move_id or (line.case_id.move_ids if len(line.case_id.move_ids) == 1 else False)

    @api.constrains('case_id', 'move_id')
    def _check_move_in_case(self):
        for line in self:
            if not line.move_id or line.move_id not in line.case_id.move_ids:
                raise ValidationError(self.env._(
                    "Choose which invoice of the case the installment of %(date)s pays.", date=line.date))
