# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import random
from datetime import timedelta

from odoo.fields import Command
from odoo.tests import tagged

from .common import InvoiceFollowupCommon

SENT_STATES = ('sent', 'scheduled')


@tagged('post_install', '-at_install')
class TestPlanner(InvoiceFollowupCommon):
    """One planner answers what goes out on a day: the preview of day D lists exactly what the cron sends on D."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        other = cls.setup_other_company(name='Planner Second Company')
        cls.company_2 = other['company']
        cls.company_2.write({'email': 'billing@second.example', 'followup_automation': True,
                             'followup_policy_id': cls.policy.id, 'followup_consolidate': True,
                             'followup_min_gap_days': 2})
        cls.journal_2 = other['default_journal_sale']
        cls.company.followup_min_gap_days = 3
        cls.policy.write({'high_value_amount': 5000.0, 'step_ids': [Command.create({
            'name': 'Call', 'sequence': 5, 'offset_days': 10, 'channel': 'activity',
            'activity_type_id': cls.env.ref('mail.mail_activity_data_call').id})]})
        Partner = cls.env['res.partner']
        cls.customers = Partner.create([
            {'name': f'Planner Customer {index}', 'email': f'planner{index}@example.com', 'lang': 'en_US'}
            for index in range(6)
        ])
        cls.customers[1].followup_strategic = True
        cls.customers[2].email = False  # no address: fails once, a case opens
        cls.customers[3].followup_bounced_email = 'planner3@example.com'

    def _portfolio(self):
        """Invoices of every kind around February 2026, in two companies."""
        rng = random.Random(13)
        invoices = self.env['account.move']
        for customer in self.customers:
            for _index in range(3):
                due = f'2026-02-{rng.randint(1, 20):02d}'
                invoices |= self._followup_invoice(amount=rng.choice([300.0, 1200.0, 6000.0]), due=due,
                                                   partner=customer)
            invoices |= self._create_invoice(
                invoice_date='2026-01-05', invoice_date_due='2026-02-04', partner_id=customer.id,
                company_id=self.company_2.id, journal_id=self.journal_2.id, post=True,
                invoice_line_ids=[self._prepare_invoice_line(price_unit=800.0, product_id=self.product_a,
                                                             tax_ids=[])])
        invoices |= self._followup_invoice(amount=1000.0, invoice_date='2026-01-10', due=False,
                                           partner=self.customers[4], invoice_payment_term_id=self.term_30_70.id)
        Case = self.env['invoice.followup.case']
        promised = self._followup_invoice(amount=700.0, due='2026-02-05', partner=self.customers[5])
        Case._followup_open(promised, 'promise', promise_date=self._d('2026-02-12'))
        planned = self._followup_invoice(amount=900.0, due='2026-02-03', partner=self.customers[0])
        plan = Case._followup_open(planned, 'payment_plan', plan_state='proposed', plan_line_ids=[
            Command.create({'date': '2026-02-10', 'amount': 300.0}),
            Command.create({'date': '2026-02-20', 'amount': 300.0}),
            Command.create({'date': '2026-03-02', 'amount': 300.0}),
        ])
        plan.action_approve_plan()
        paused = self._followup_invoice(amount=400.0, due='2026-02-02', partner=self.customers[4])
        paused.followup_paused_until = '2026-02-16'
        return invoices | promised | planned | paused, planned

    def _preview(self, company, day):
        lines = self.env['invoice.followup.planner'].with_company(company)._preview_lines(company, day)
        return {(line['move_id'], line['step_id']) for line in lines if not line['hold']}

    def _sent_on(self, moves, day):
        logs = self.env['invoice.followup.log'].search(
            [('move_id', 'in', moves.ids), ('date', '=', day), ('state', 'in', SENT_STATES)])
        return {(log.move_id.id, log.step_id.id) for log in logs}

    def test_preview_of_each_day_is_what_the_cron_sends(self):
        invoices, planned = self._portfolio()
        rng = random.Random(7)
        day = self._d('2026-01-22')
        held = set()
        with self._warns():  # the customer without an address fails, once per invoice
            self._run_days(invoices, planned, day, rng, held)
        self.assertGreater(self._sent_total, 30, "a real portfolio: many reminders over those weeks")
        self.assertLessEqual({'gap', 'review', 'bounce', 'no_email', 'paused'}, held,
                             "the preview showed each kind of hold on some day")
        self.assertTrue(self.env['invoice.followup.case'].search([('reason', '=', 'broken_promise')]),
                        "the promise was broken, then the cadence resumed")
        self.assertTrue(self._logs(invoices.filtered(lambda move: move.company_id == self.company_2)),
                        "the second company's reminders went out too")

    def _run_days(self, invoices, planned, day, rng, held):
        self._sent_total = 0
        while day <= self._d('2026-03-05'):
            with self._at(day.isoformat()):
                if day == self._d('2026-02-10'):
                    self._register_payment(planned, amount=300.0)  # the plan's first installment, kept
                if rng.random() < 0.2:  # now and then a customer pays an open invoice
                    open_moves = invoices.filtered(lambda move: move.followup_state == 'active')
                    if open_moves:
                        self._register_payment(rng.choice(open_moves))
                expected = self._preview(self.company, day) | self._preview(self.company_2, day)
                held |= {line['hold'] for company in (self.company, self.company_2) for line in self.env[
                    'invoice.followup.planner'].with_company(company)._preview_lines(company, day) if line['hold']}
                self._run_cron()
                self.assertEqual(self._sent_on(invoices, day), expected, f"the preview of {day} is what went out")
                self._sent_total += len(expected)
            day += timedelta(days=1)

    def test_preview_shows_holds_with_their_reason(self):
        gap_first = self._followup_invoice(due='2026-01-31', partner=self.customers[0])
        gap_second = self._followup_invoice(due='2026-01-31', partner=self.customers[0])
        review = self._followup_invoice(amount=6000.0, due='2026-01-20', partner=self.customers[0])
        bounced = self._followup_invoice(due='2026-01-31', partner=self.customers[3])
        with self._at('2026-02-07'):
            lines = {line['move_id']: line for line in self.env['invoice.followup.planner']._preview_lines(
                self.company, self._d('2026-02-07'))}
        self.assertFalse(lines[gap_first.id]['hold'])
        self.assertEqual(lines[gap_second.id]['hold'], 'gap')
        self.assertIn('gap', lines[gap_second.id]['note'])
        self.assertEqual(lines[review.id]['hold'], 'review', "the firm step of a large amount goes to a person")
        self.assertEqual(lines[bounced.id]['hold'], 'bounce')
        self.assertFalse(lines[bounced.id]['recipient'])

    def test_send_now_respects_the_bounce_and_the_review(self):
        bounced = self._followup_invoice(due='2026-01-31', partner=self.customers[3])
        review = self._followup_invoice(amount=6000.0, due='2026-01-20', partner=self.customers[0])
        with self._at('2026-02-07'):
            with self.assertRaisesRegex(Exception, "bounced"):
                bounced.action_followup_send_now()
            with self.assertRaisesRegex(Exception, "person"):
                review.action_followup_send_now()
        self.assertFalse(self._logs(bounced | review))
