# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import LockError, UserError

# What is left to invoice on a line, re-read once the order is locked.
INVOICED_QUANTITY_FIELDS = ['qty_delivered', 'qty_invoiced', 'qty_to_invoice', 'invoice_lines', 'invoice_status']


class SaleOrder(models.Model):
    _inherit = 'sale.order'

    def _create_invoices(self, grouped=False, final=False, date=None):
        self._followup_lock_for_invoicing()
        return super()._create_invoices(grouped=grouped, final=final, date=date)

    def _followup_lock_for_invoicing(self):
        """Lock the orders and their lines before computing what is left to invoice, then re-read it.

        Both ways of invoicing an order, its own "Create invoice" and a reached milestone, take this lock
        (``SELECT ... FOR NO KEY UPDATE``), so that they never both bill the same quantity: the second one is
        told to try again while the first one is not committed. A transaction that started before the first
        one committed gets a serialization error on the updated lines, and its request is retried by Odoo.
        """
        orders = self.filtered('id')
        if not orders:
            return
        try:
            orders.lock_for_update(allow_referencing=True)
            orders.order_line.lock_for_update(allow_referencing=True)
        except LockError as error:
            raise UserError(self.env._(
                "Sale order %(orders)s is being invoiced in another session right now: try again in a moment.",
                orders=", ".join(orders.mapped('name')))) from error
        orders.order_line.invalidate_recordset(INVOICED_QUANTITY_FIELDS)
