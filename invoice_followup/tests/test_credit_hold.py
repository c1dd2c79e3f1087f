# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCreditHold(InvoiceFollowupCommon):
    """The customer's overdue banner on the customer, order and invoice forms, and the optional credit hold: no
    order confirmed, no invoice posted for a customer overdue too long or above its credit limit, except by an
    accounting administrator; lifted as soon as the customer pays."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = 'account.group_account_invoice,sales_team.group_sale_salesman_all_leads'
        cls.clerk = new_test_user(cls.env, login='hold_clerk', groups=groups,
                                  company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)])
        cls.manager = new_test_user(
            cls.env, login='hold_manager', groups=f'{groups},account.group_account_manager',
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)])
        cls.product = cls.env['product.product'].create({
            'name': 'Held goods', 'list_price': 100.0, 'taxes_id': [Command.clear()]})

    def _order(self, amount=100.0, user=None):
        return self.env['sale.order'].with_user(user or self.clerk).create({
            'partner_id': self.partner_a.id,
            'order_line': [Command.create({'product_id': self.product.id, 'product_uom_qty': 1.0,
                                           'price_unit': amount})],
        })

    def _draft_invoice(self, amount=100.0, user=None):
        invoice = self._followup_invoice(amount, '2026-06-15', '2026-07-15', post=False)
        return invoice.with_user(user or self.clerk)

    def _hold_after(self, days):
        self.company.write({'followup_credit_hold': True, 'followup_credit_hold_days': days})

    def test_banner_fields(self):
        # 1000 due 45 days ago, 300 paid; 30% of 2000 due 10 days ago (the 70% later); a case open; not due: 500.
        oldest = self._followup_invoice(1000.0, '2026-04-01', '2026-05-01')
        self._register_payment(oldest, amount=300.0, payment_date='2026-05-10')
        self._followup_invoice(2000.0, '2026-06-05', due=False, invoice_payment_term_id=self.term_30_70.id)
        self._followup_invoice(500.0, '2026-06-10', '2026-07-10')
        self.env['invoice.followup.case']._followup_open(oldest, 'dispute')
        self._followup_invoice(400.0, '2026-01-01', '2026-01-31', partner=self.partner_b)
        order, draft = self._order(), self._draft_invoice()
        contact = self.env['res.partner'].create({'name': 'Buyer at A', 'parent_id': self.partner_a.id})
        expected = {'followup_overdue_amount': 1300.0, 'followup_oldest_days_late': 45,
                    'followup_open_case_count': 1, 'followup_credit_hold_reason': False}
        self.assertRecordValues(self.partner_a | contact, [expected, expected])
        self.assertRecordValues(order.sudo(), [expected])
        self.assertRecordValues(draft.sudo(), [expected])
        self.assertRecordValues(self.partner_b, [{
            'followup_overdue_amount': 400.0, 'followup_oldest_days_late': 135, 'followup_open_case_count': 0}])
        refund = self._followup_invoice(50.0, move_type='out_refund', due=False, post=False)
        self.assertRecordValues(refund, [{'followup_overdue_amount': 0.0, 'followup_open_case_count': 0}])

    def test_off_by_default(self):
        self._followup_invoice(1000.0, '2026-01-01', '2026-01-31')
        self._order().action_confirm()
        self._draft_invoice().action_post()

    def test_overdue_customer_is_held_manager_overrides_and_payment_lifts(self):
        late = self._followup_invoice(1000.0, '2026-04-01', '2026-05-01')  # 45 days late
        self._hold_after(30)
        order, draft = self._order(), self._draft_invoice()
        self.assertIn("overdue by 45 days", order.sudo().followup_credit_hold_reason)
        with self.assertRaisesRegex(UserError, r"cannot be confirmed(.|\n)*overdue by 45 days \(more than 30\)"):
            order.action_confirm()
        self.assertEqual(order.state, 'draft')
        with self.assertRaisesRegex(UserError, r"cannot be posted(.|\n)*overdue by 45 days"):
            draft.action_post()
        self.assertEqual(draft.state, 'draft')

        self._hold_after(60)
        self.env.invalidate_all()  # computed live, at each read (a new request)
        self.assertFalse(order.sudo().followup_credit_hold_reason, "45 days are within a 60-day limit")
        self._hold_after(30)

        managed = self._order(user=self.manager)
        managed.action_confirm()
        self.assertEqual(managed.state, 'sale', "an accounting administrator goes ahead")
        self.assertIn("despite the credit hold", managed.message_ids[:1].body)
        managed_draft = self._draft_invoice(user=self.manager)
        managed_draft.action_post()
        self.assertEqual(managed_draft.state, 'posted')

        self._register_payment(late, payment_date='2026-06-15')
        self.env.invalidate_all()
        self.assertFalse(order.sudo().followup_credit_hold_reason, "paid: the hold lifts by itself")
        order.action_confirm()
        draft.action_post()
        self.assertEqual((order.state, draft.state), ('sale', 'posted'))

    def test_credit_limit_counts_the_document(self):
        self._followup_invoice(1000.0, '2026-06-01', '2026-07-01')  # owed, not overdue
        self._hold_after(30)
        self.company.account_use_credit_limit = True
        self.partner_a.credit_limit = 1500.0
        self._order(400.0).action_confirm()
        big = self._order(600.0)
        with self.assertRaisesRegex(UserError, r"would owe .*1,600.00.* credit limit of .*1,500.00"):
            big.action_confirm()
        with self.assertRaisesRegex(UserError, "credit limit"):
            self._draft_invoice(600.0).action_post()
        self._draft_invoice(400.0).action_post()
        self.company.account_use_credit_limit = False
        big.action_confirm()

    def test_banner_shows_on_forms_for_billing_users_only(self):
        self._followup_invoice(1000.0, '2026-04-01', '2026-05-01')
        self._hold_after(30)
        order = self._order()
        form = Form(order.with_user(self.clerk))
        self.assertIn("overdue by 45 days", form.followup_credit_hold_reason)
        salesman = new_test_user(self.env, login='hold_salesman', groups='sales_team.group_sale_salesman_all_leads')
        self.assertNotIn('followup_overdue_amount', Form(order.with_user(salesman))._view['fields'])

    def test_settings(self):
        settings = Form(self.env['res.config.settings'])
        settings.followup_credit_hold = True
        settings.followup_credit_hold_days = 45
        settings.save().execute()
        self.assertRecordValues(self.company, [{'followup_credit_hold': True, 'followup_credit_hold_days': 45}])
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.company.followup_credit_hold_days = -1
