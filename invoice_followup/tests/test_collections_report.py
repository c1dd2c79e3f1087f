# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCollectionsReport(InvoiceFollowupCommon):
    """The collections analysis (an SQL view, one row per posted customer invoice), its aging buckets as of
    today, the customer's payment behaviour, and who may read it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env['invoice.followup.report']
        cls.today = date(2026, 6, 15)

    def _row(self, move):
        self.env.invalidate_all()
        return self.Report.search([('move_id', '=', move.id)])

    def _days_ago(self, days):
        return self.today - timedelta(days=days)

    def test_paid_date_is_the_last_payment_and_reminders_count_until_then(self):
        invoice = self._followup_invoice(1000.0, '2026-01-01', '2026-01-31')
        self._register_payment(invoice, amount=300.0, payment_date='2026-01-20')
        self.env['invoice.followup.log'].sudo().create([{
            'move_id': invoice.id, 'step_id': step.id, 'cycle_key': '2026-01-31', 'date': day, 'state': state,
            'currency_id': invoice.currency_id.id,
        } for step, day, state in (
            (self.step_before, '2026-01-24', 'sent'),
            (self.step_due, '2026-01-31', 'sent'),
            (self.step_late_7, '2026-02-07', 'skipped'),
            (self.step_late_14, '2026-02-14', 'sent'),
        )])
        row = self._row(invoice)
        self.assertFalse(row.is_paid)
        self.assertEqual(row.reminder_count, 3, "unpaid: every reminder sent so far")
        self.assertEqual(row.aging_bucket, '90_plus', "135 days past due on 15 June")
        self.assertAlmostEqual(row.residual, 700.0)
        self._register_payment(invoice, amount=700.0, payment_date='2026-02-10')
        row = self._row(invoice)
        self.assertRecordValues(row, [{
            'is_paid': True, 'paid_date': self._d('2026-02-10'), 'days_to_pay': 40, 'days_late': 10,
            'is_paid_on_time': False, 'is_due': True, 'aging_bucket': False, 'residual': 0.0, 'amount': 1000.0,
            'reminder_count': 2, 'last_step_id': self.step_due.id, 'last_reminder_date': self._d('2026-01-31'),
            'days_after_reminder': 10, 'partner_id': self.partner_a.id, 'policy_id': self.policy.id,
            'paid_count': 1, 'paid_on_time_count': 0, 'billing_lag': False, 'work_date': False,
        }])

    def test_only_posted_customer_invoices_not_reversed(self):
        posted = self._followup_invoice()
        draft = self._followup_invoice(post=False)
        reversed_move = self._followup_invoice()
        reversed_move._reverse_moves(cancel=True)
        bill = self._create_invoice(
            move_type='in_invoice', invoice_date='2026-01-01', partner_id=self.partner_a.id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=10.0, product_id=self.product_a, tax_ids=[])])
        rows = self.Report.search([('move_id', 'in', (posted | draft | reversed_move | bill).ids)])
        self.assertEqual(rows.move_id, posted)

    def test_aging_buckets_as_of_today(self):
        invoices = {}
        for key, due_in_days, amount in (
            ('current', -5, 100.0), ('due_today', 0, 200.0), ('1_30_a', 1, 300.0), ('1_30_b', 30, 400.0),
            ('31_60', 31, 500.0), ('61_90', 90, 600.0), ('90_plus', 91, 700.0), ('paid', 40, 800.0),
        ):
            invoice_date = self._days_ago(due_in_days + 30)
            invoices[key] = self._followup_invoice(amount, invoice_date, self._days_ago(due_in_days))
        self._register_payment(invoices['paid'], payment_date=self.today)
        self._register_payment(invoices['61_90'], amount=250.0, payment_date=self.today)
        expected = {'current': 'current', 'due_today': 'current', '1_30_a': '1_30', '1_30_b': '1_30',
                    '31_60': '31_60', '61_90': '61_90', '90_plus': '90_plus', 'paid': False}
        for key, bucket in expected.items():
            self.assertEqual(self._row(invoices[key]).aging_bucket, bucket, key)
        self.assertEqual(self._row(invoices['1_30_b']).days_late, 30)
        self.assertFalse(self._row(invoices['current']).days_late, "not due yet: days late unknown")
        self.assertFalse(self._row(invoices['current']).is_due)
        aging = self.env['invoice.followup.dashboard']._aging(self.company)
        self.assertEqual(aging, {'current': 300.0, '1_30': 700.0, '31_60': 500.0, '61_90': 350.0, '90_plus': 700.0})

    def test_customer_payment_behaviour(self):
        # Within the last 12 months: one paid 20 days late, one paid on time, one 9 days overdue and unpaid.
        late = self._followup_invoice(100.0, self._days_ago(100), self._days_ago(70))
        self._register_payment(late, payment_date=self._days_ago(50))
        on_time = self._followup_invoice(100.0, self._days_ago(60), self._days_ago(30))
        self._register_payment(on_time, payment_date=self._days_ago(31))
        self._followup_invoice(100.0, self._days_ago(39), self._days_ago(9))
        self._followup_invoice(100.0, self._days_ago(10), self.today + timedelta(days=20))  # not due: no say
        old = self._followup_invoice(100.0, self._days_ago(500), self._days_ago(470))  # too old to count
        self._register_payment(old, payment_date=self._days_ago(300))
        partner = self.partner_a
        partner.invalidate_recordset()
        self.assertAlmostEqual(partner.followup_avg_days_late, (20 + 0 + 9) / 3)
        self.assertAlmostEqual(partner.followup_avg_days_to_pay, (50 + 29) / 2)
        self.assertTrue(partner.followup_pays_late, "late by more than a week on average")
        self.assertFalse(self.partner_b.followup_pays_late, "no invoice: no verdict")
        self.assertEqual(self.partner_b.followup_avg_days_late, 0.0)
        contact = self.env['res.partner'].create({'name': 'Accounts payable', 'parent_id': partner.id})
        self.assertTrue(contact.followup_pays_late, "a contact shows its company's behaviour")
        # Paid on time since: the average drops under a week.
        for _i in range(3):
            invoice = self._followup_invoice(100.0, self._days_ago(40), self._days_ago(10))
            self._register_payment(invoice, payment_date=self._days_ago(12))
        partner.invalidate_recordset()
        self.assertAlmostEqual(partner.followup_avg_days_late, 29 / 6)
        self.assertFalse(partner.followup_pays_late)

    def test_access_and_companies(self):
        invoice = self._followup_invoice()
        other = self.setup_other_company(name='Other analysis company')['company']
        other_invoice = self.env['account.move'].with_company(other).create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': '2026-01-01',
            'invoice_line_ids': [Command.create({'name': 'Work', 'price_unit': 10.0, 'tax_ids': []})],
        })
        other_invoice.action_post()
        self.assertTrue(self.Report.search([('move_id', '=', other_invoice.id)]), "both companies exist")
        billing = new_test_user(
            self.env, 'collections_billing', groups='base.group_user,account.group_account_invoice',
            company_id=self.company.id)
        rows = self.Report.with_user(billing).search([('move_id', 'in', (invoice | other_invoice).ids)])
        self.assertEqual(rows.move_id.ids, invoice.ids, "another company's invoices stay out of sight")
        dashboard = self.env['invoice.followup.dashboard'].with_user(billing).create({})
        self.assertEqual(dashboard.company_id, self.company)
        dashboard.write({'date_from': '2026-01-01', 'date_to': '2026-01-31'})
        domain = dashboard.action_open_analysis()['domain']
        self.assertEqual(self.Report.search(domain).move_id, invoice,
                         "the drill-down shows the period's invoices of the dashboard's company only")
        dashboard.write({'date_from': '2026-02-01', 'date_to': '2026-02-28'})
        self.assertFalse(self.Report.search(dashboard.action_open_analysis()['domain']))
        employee = new_test_user(self.env, 'collections_employee', groups='base.group_user',
                                 company_id=self.company.id)
        with self.assertRaises(AccessError):
            self.Report.with_user(employee).search([])
        with self.assertRaises(AccessError):
            self.env['invoice.followup.dashboard'].with_user(employee).create({})

    def test_resolved_cases_keep_their_date(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-01'):
            case = self.env['invoice.followup.case']._followup_open(invoice, 'dispute')
        self.assertFalse(case.resolved_date)
        with self._at('2026-02-11'):
            case.action_resolve()
            case.flush_recordset()
        self.assertEqual(case.resolved_date, self._d('2026-02-11'))
        stats = self.env['invoice.followup.dashboard']._case_stats(
            self.company, self._d('2026-02-01'), self._d('2026-02-28'))
        self.assertEqual((stats['dispute_opened'], stats['dispute_resolved'], stats['dispute_avg_days']),
                         (1, 1, 10.0))

    def test_board_flags_customers_who_pay_late_and_the_cron_refreshes_it(self):
        late = self._followup_invoice(100.0, self._days_ago(100), self._days_ago(70))
        self._register_payment(late, payment_date=self._days_ago(50))
        open_invoice = self._followup_invoice(100.0, self._days_ago(20), self.today + timedelta(days=10))
        case = self.env['invoice.followup.case']._followup_open(open_invoice, 'dispute')
        other = self.env['invoice.followup.case']._followup_open(
            self._followup_invoice(100.0, self._days_ago(20), self.today + timedelta(days=10),
                                   partner=self.partner_b), 'dispute')
        self.assertRecordValues(case | other, [
            {'partner_pays_late': True, 'partner_avg_days_late': 20.0},
            {'partner_pays_late': False, 'partner_avg_days_late': 0.0},
        ])
        self.assertEqual(self.env['invoice.followup.case'].search(
            [('id', 'in', (case | other).ids), ('partner_pays_late', '=', True)]), case)
        for _i in range(3):
            invoice = self._followup_invoice(100.0, self._days_ago(40), self._days_ago(10))
            self._register_payment(invoice, payment_date=self._days_ago(12))
        self.assertTrue(case.partner_pays_late, "stored: it changes with the daily refresh")
        with self.enter_registry_test_mode():
            self.env.ref('invoice_followup.ir_cron_refresh_payment_behaviour').method_direct_trigger()
        self.env.invalidate_all()
        self.assertRecordValues(case, [{'partner_pays_late': False, 'partner_avg_days_late': 5.0}])

    def test_promises_kept_and_open_cases(self):
        Case = self.env['invoice.followup.case']
        with self._at('2026-02-01'):
            kept = Case._followup_open(self._followup_invoice(), 'promise', promise_date='2026-02-10')
            kept.action_resolve()
            broken = Case._followup_open(self._followup_invoice(), 'promise', promise_date='2026-02-20')
            broken.action_resolve()
            broken_case = Case._followup_open(broken.move_ids, 'broken_promise', promise_date='2026-02-20')
            pending = Case._followup_open(self._followup_invoice(), 'promise', promise_date='2026-02-25')
            later = Case._followup_open(
                self._followup_invoice(partner=self.partner_b), 'promise', promise_date='2026-03-05')
            later.action_resolve()
            self.env.flush_all()
        stats = self.env['invoice.followup.dashboard']._case_stats(
            self.company, self._d('2026-02-01'), self._d('2026-02-28'))
        self.assertEqual((stats['promises'], stats['broken_promises']), (2, 1),
                         "closed promises of February: one kept, one broken; the open one is not decided yet")
        self.assertEqual(stats['promise_kept_rate'], 50.0)
        self.assertEqual(stats['open_count'], 2, "the broken promise and the pending promise")
        self.assertEqual(stats['open_avg_age'], 134, "opened on 1 February, open on 15 June")
        self.assertEqual((pending | broken_case).mapped('is_open'), [True, True])

    def test_billing_lag_of_recurring_and_milestone_invoices(self):
        recurring = self._followup_invoice(invoice_date=self._days_ago(2), due=self._days_ago(-28))
        recurring.recurring_period_start = self._days_ago(5)
        project = self.env['project.project'].sudo().create({'name': 'Lag project', 'allow_milestones': True})
        milestone = self.env['project.milestone'].sudo().create({'name': 'Delivered', 'project_id': project.id})
        milestone.write({'is_reached': True})
        milestone.reached_date = self._days_ago(10)
        by_milestone = self._followup_invoice(invoice_date=self._days_ago(6), due=self._days_ago(-24))
        by_milestone.milestone_id = milestone
        plain = self._followup_invoice(invoice_date=self._days_ago(6), due=self._days_ago(-24))
        self.env.flush_all()
        self.assertEqual((self._row(recurring).work_date, self._row(recurring).billing_lag), (self._days_ago(5), 3))
        self.assertEqual(self._row(by_milestone).billing_lag, 4, "milestone reached → invoice issued")
        self.assertFalse(self._row(plain).work_date)

    def test_board_puts_late_payers_first(self):
        Case = self.env['invoice.followup.case']
        punctual = Case.create({'partner_id': self.partner_a.id, 'reason': 'max_reminders'})
        late = Case.create({'partner_id': self.partner_b.id, 'reason': 'max_reminders'})
        late.write({'partner_pays_late': True, 'partner_avg_days_late': 20.0})
        (punctual | late).write({'priority': '1'})
        self.env.flush_all()
        self.assertEqual(Case.search([('id', 'in', (punctual | late).ids)]).ids, [late.id, punctual.id])
