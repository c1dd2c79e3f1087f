# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.fields import Command


class InvoiceFollowupRecurringLine(models.Model):
    _name = 'invoice.followup.recurring.line'
    _description = "Recurring Invoice Line"
    _inherit = ['analytic.mixin']
    _order = 'recurring_id, sequence, id'
    _check_company_auto = True

    recurring_id = fields.Many2one(
        'invoice.followup.recurring', string="Schedule", required=True, index=True, ondelete='cascade')
    company_id = fields.Many2one(related='recurring_id.company_id', store=True, index=True)
    currency_id = fields.Many2one(related='recurring_id.currency_id')
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        'product.product', check_company=True, domain="[('sale_ok', '=', True)]")
    name = fields.Char(
        string="Description", required=True, compute='_compute_name', store=True, readonly=False, precompute=True)
    quantity = fields.Float(default=1.0, digits='Product Unit')
    price_unit = fields.Float(
        string="Unit Price", min_display_digits='Product Price',
        compute='_compute_price_unit', store=True, readonly=False, precompute=True)
    tax_ids = fields.Many2many(
        'account.tax', string="Taxes", check_company=True, domain="[('type_tax_use', '=', 'sale')]",
        compute='_compute_tax_ids', store=True, readonly=False, precompute=True)
    price_subtotal = fields.Monetary(
        string="Amount", compute='_compute_price_subtotal', currency_field='currency_id')

    @api.depends('product_id')
    def _compute_name(self):
        for line in self:
            if line.product_id:
                line.name = line.product_id.get_product_multiline_description_sale()
            elif not line.name:
                line.name = False

    @api.depends('product_id')
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line.product_id.lst_price if line.product_id else line.price_unit

    @api.depends('product_id')
    def _compute_tax_ids(self):
        for line in self:
            if line.product_id:
                company = line.recurring_id.company_id or self.env.company
                line.tax_ids = line.product_id.taxes_id._filter_taxes_by_company(company)

    @api.depends('quantity', 'price_unit')
    def _compute_price_subtotal(self):
        for line in self:
            line.price_subtotal = line.quantity * line.price_unit

    def _prepare_invoice_line_vals(self, period_label):
        """Values of this line on the invoice of a period: the period is written on it."""
        self.ensure_one()
        return {
            'product_id': self.product_id.id,
            'name': self.env._("%(name)s — %(period)s", name=self.name, period=period_label),
            'quantity': self.quantity,
            'price_unit': self.price_unit,
            'tax_ids': [Command.set(self.tax_ids.ids)],
            'analytic_distribution': self.analytic_distribution,
        }
