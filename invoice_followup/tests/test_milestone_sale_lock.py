# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import TransactionCase, tagged


@tagged('post_install', '-at_install')
class TestMilestoneSaleOrderLock(TransactionCase):
    """Two real transactions on committed data: a milestone invoice and the sale order's "Create invoice" on the
    same order at the same moment. The first one holds the order's lock until it commits; the second is told to
    try again instead of billing the same quantity. The data is committed by the test and deleted after it."""

    def setUp(self):
        super().setUp()
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref('base.main_company')
            partner = env['res.partner'].create({'name': 'Lock test customer', 'email': 'lock@example.com'})
            product = env['product.product'].create({
                'name': 'Lock test milestone service', 'type': 'service', 'invoice_policy': 'order',
                'service_type': 'milestones', 'list_price': 1000.0, 'taxes_id': [Command.clear()],
            })
            order = env['sale.order'].create({
                'partner_id': partner.id,
                'company_id': company.id,
                'order_line': [Command.create({'product_id': product.id, 'product_uom_qty': 1.0,
                                               'price_unit': 1000.0, 'tax_ids': [Command.clear()]})],
            })
            order.action_confirm()
            project = env['project.project'].create({
                'name': 'Lock test project', 'company_id': company.id, 'allow_milestones': True,
                'billing_partner_id': partner.id, 'billing_amount': 1000.0,
            })
            milestone = env['project.milestone'].create({
                'name': 'Everything', 'project_id': project.id, 'sale_line_id': order.order_line.id,
                'quantity_percentage': 1.0,
            })
            self.ids_ = {'partner': partner.id, 'product': product.id, 'order': order.id, 'project': project.id,
                         'milestone': milestone.id}
        self.addCleanup(self._drop_committed_data)
        self.holder = self._new_env()
        self.worker = self._new_env()

    def _new_env(self):
        cr = self.env.registry.cursor()
        self.addCleanup(cr.close)
        self.addCleanup(cr.rollback)
        return api.Environment(cr, SUPERUSER_ID, {})

    def _drop_committed_data(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env['sale.order'].browse(self.ids_['order'])
            invoices = order.invoice_ids | env['account.move'].search([('milestone_id', '=', self.ids_['milestone'])])
            invoices.unlink()
            env['project.milestone'].browse(self.ids_['milestone']).unlink()
            env['project.project'].browse(self.ids_['project']).unlink()
            order._action_cancel()
            order.unlink()
            env['product.product'].browse(self.ids_['product']).product_tmpl_id.unlink()
            env['res.partner'].browse(self.ids_['partner']).unlink()

    def _begin(self, env):
        # Never wait for a lock inside a test: a statement blocked by the other transaction fails after 5 s.
        env.cr.execute("SET LOCAL lock_timeout = '5s'")

    def test_create_invoice_while_the_milestone_is_being_invoiced(self):
        self._begin(self.holder)
        self.holder['project.milestone'].browse(self.ids_['milestone']).is_reached = True
        invoice = self.holder['project.milestone'].browse(self.ids_['milestone']).invoice_id
        self.assertEqual(invoice.invoice_line_ids.quantity, 1.0, "the milestone bills the line, not committed yet")
        self._begin(self.worker)
        order = self.worker['sale.order'].browse(self.ids_['order'])
        with self.assertRaisesRegex(UserError, "is being invoiced in another session"):
            order._create_invoices()
        self.worker.cr.rollback()
        self.assertFalse(self.worker['account.move'].search([('line_ids.sale_line_ids.order_id', '=', order.id)]),
                         "nothing billed a second time")

    def test_milestone_reached_while_the_order_is_being_invoiced(self):
        self._begin(self.holder)
        invoice = self.holder['sale.order'].browse(self.ids_['order'])._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.quantity, 1.0, "Create invoice bills the line, not committed yet")
        self._begin(self.worker)
        milestone = self.worker['project.milestone'].browse(self.ids_['milestone'])
        with self.assertRaisesRegex(UserError, "is being invoiced in another session"):
            milestone.is_reached = True
        self.worker.cr.rollback()
        self.assertFalse(self.worker['account.move'].search([('milestone_id', '=', milestone.id)]))
