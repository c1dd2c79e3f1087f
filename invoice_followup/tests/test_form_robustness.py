# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common import InvoiceFollowupCommon

ADDON_PREFIXES = ('followup_', 'recurring_', 'milestone_')


@tagged('post_install', '-at_install')
class TestFormRobustness(InvoiceFollowupCommon):
    """The add-on's computed fields never break a form or an onchange, whatever is (not yet) filled in."""

    def _read_addon_fields(self, record):
        names = [name for name in record._fields if name.startswith(ADDON_PREFIXES)]
        self.assertTrue(names, f"{record._name} has fields of the add-on")
        return {name: record[name] for name in names}

    def test_half_filled_invoices_compute(self):
        Move = self.env['account.move']
        drafts = [
            Move.new({'move_type': 'out_invoice'}),
            Move.new({'move_type': 'out_invoice', 'partner_id': self.partner_a.id}),
            Move.new({'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'currency_id': False}),
            Move.new({'move_type': 'out_invoice', 'company_id': False, 'currency_id': False}),
            Move.new({'move_type': 'entry'}),
        ]
        for draft in drafts:
            values = self._read_addon_fields(draft)
            self.assertEqual(values['followup_days_overdue'], 0)
            if not draft.currency_id:
                self.assertFalse(values['followup_amount_due_words'], "no currency: no amount in words")

    def test_clearing_the_currency_on_the_form(self):
        """Odoo's own test_invoice_with_empty_currency, which crashed with the add-on installed."""
        move = self.env['account.move'].create({
            'move_type': 'out_invoice',
            'partner_id': self.partner_a.id,
            'invoice_line_ids': [Command.create({'name': 'Work', 'quantity': 1.0, 'price_unit': 100.0})],
        })
        move_form = Form(move)
        move_form.currency_id = self.env['res.currency']
        move_form.currency_id = self.company.currency_id
        move_form.save()
        self.assertEqual(move.currency_id, self.company.currency_id)

    def test_new_invoice_and_customer_forms(self):
        with Form(self.env['account.move'].with_context(default_move_type='out_invoice')) as move_form:
            move_form.partner_id = self.partner_a
            move_form.partner_id = self.env['res.partner']
            move_form.partner_id = self.partner_b
            with move_form.invoice_line_ids.new() as line:
                line.name = 'Work'
                line.price_unit = 10.0
        with Form(self.env['res.partner']) as partner_form:
            partner_form.name = 'New customer'
        self._read_addon_fields(self.env['res.partner'].new({}))
