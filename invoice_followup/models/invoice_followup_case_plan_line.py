# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class InvoiceFollowupCasePlanLine(models.Model):
    _name = 'invoice.followup.case.plan.line'
    _description = "Payment Plan Installment"
    _order = 'date, id'

    case_id = fields.Many2one('invoice.followup.case', required=True, index=True, ondelete='cascade')
    company_id = fields.Many2one(related='case_id.company_id', store=True)
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True, currency_field='currency_id')
    currency_id = fields.Many2one(related='case_id.currency_id')
    is_checked = fields.Boolean(
        string="Checked", help="Its date has passed and the payments were on track.", copy=False)

    _positive_amount = models.Constraint("CHECK (amount > 0)", "An installment must be a positive amount.")
