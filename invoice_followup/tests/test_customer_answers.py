# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from urllib.parse import parse_qs, urlsplit

from odoo import http
from odoo.exceptions import ConcurrencyError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.invoice_followup.controllers.portal import answer_values
from odoo.addons.payment import utils as payment_utils

from .common import InvoiceFollowupCommon


class CustomerAnswersCommon(InvoiceFollowupCommon):

    def _answer(self, move, action, **post):
        """What the customer answers from the invoice's page; the confirmation shown."""
        result = move._followup_customer_response(action, answer_values(action, post))
        self.assertFalse(result.get('error'), result.get('error'))
        return result['confirmation']

    def _cases(self, reason, partner=None):
        return self.env['invoice.followup.case'].search(
            [('partner_id', '=', (partner or self.partner_a).id), ('reason', '=', reason)])


@tagged('post_install', '-at_install')
class TestCustomerAnswers(CustomerAnswersCommon):
    """What the customer says about an invoice is kept per invoice and drives only that invoice's reminders,
    even when one case groups several invoices of the customer."""

    def test_promise_on_one_invoice_keeps_the_other_promise(self):
        first, second = self._followup_invoice(), self._followup_invoice()
        with self._at('2026-02-02'):
            self._answer(first, 'promise', promise_date='2026-02-10')
            self._answer(second, 'promise', promise_date='2026-02-20')
        case = self._cases('promise')
        self.assertEqual(case.move_ids, first | second, "one promise case groups the customer's invoices")
        self.assertEqual(first.followup_next_date, self._d('2026-02-11'), "the second promise moves not the first")
        self.assertEqual(second.followup_next_date, self._d('2026-02-21'))
        self.assertEqual(case.promise_date, self._d('2026-02-10'), "the case shows the next promised date")
        with self._at('2026-02-11'):
            self._run_cron()
        self.assertEqual(self._logs(first).step_id, self.step_late_7, "a broken promise resumes its own invoice")
        self.assertEqual(self._cases('broken_promise').move_ids, first)
        self.assertFalse(self._logs(second), "the other promise still holds")
        self.assertEqual(second.followup_state, 'paused')
        self.assertEqual(second.followup_next_date, self._d('2026-02-21'))
        self.assertTrue(case.is_open)
        self.assertEqual(case.promise_date, self._d('2026-02-20'), "the promise still to come")
        self._register_payment(second)
        with self._at('2026-02-12'):
            self._run_cron()
        self.assertFalse(case.is_open, "every promise of the case is settled")

    def test_plan_request_on_one_invoice_keeps_the_other_approved_plan(self):
        first = self._followup_invoice(amount=900.0)
        second = self._followup_invoice(amount=600.0)
        with self._at('2026-02-02'):
            self._answer(first, 'plan', installments='3', first_date='2026-02-10')
        case = self._cases('payment_plan')
        case.action_approve_plan()
        self.assertEqual(first.followup_next_date, self._d('2026-02-11'))
        with self._at('2026-02-03'):
            self._answer(second, 'plan', installments='2', first_date='2026-02-05')
        self.assertEqual(case.move_ids, first | second)
        self.assertEqual(first.followup_next_date, self._d('2026-02-11'), "the approved plan still drives the invoice")
        self.assertFalse(second.followup_next_date, "the new request waits for a person")
        self.assertEqual(case.plan_state, 'proposed', "the case has a plan to review")
        plan_lines = case.plan_line_ids.sorted(lambda line: (line.move_id.id, line.date))
        self.assertEqual(
            [(line.move_id, line.date, line.amount) for line in plan_lines],
            [(first, self._d('2026-02-10'), 300.0), (first, self._d('2026-03-10'), 300.0),
             (first, self._d('2026-04-10'), 300.0),
             (second, self._d('2026-02-05'), 300.0), (second, self._d('2026-03-05'), 300.0)])
        self._register_payment(first, amount=300.0)
        with self._at('2026-02-11'):
            self._run_cron()
        self.assertTrue(case.is_open)
        self.assertFalse(self._cases('broken_promise'),
                         "the other invoice's unpaid installment does not count against this plan")
        self.assertFalse(self._logs(first | second))
        self.assertEqual(first.followup_next_date, self._d('2026-03-11'), "on track: next installment")
        case.action_approve_plan()
        self.assertEqual(first.followup_next_date, self._d('2026-03-11'), "approving the second plan keeps the first")
        self.assertEqual(second.followup_next_date, self._d('2026-02-06'))

    def test_refusing_one_plan_keeps_the_other_approved_plan(self):
        first = self._followup_invoice(amount=900.0)
        second = self._followup_invoice(amount=600.0)
        with self._at('2026-02-02'):
            self._answer(first, 'plan', installments='3', first_date='2026-02-10')
            case = self._cases('payment_plan')
            case.action_approve_plan()
            self._answer(second, 'plan', installments='2', first_date='2026-02-05')
        case.action_refuse_plan()
        self.assertTrue(case.is_open, "the approved plan goes on")
        self.assertEqual(first.followup_state, 'paused')
        self.assertEqual(first.followup_next_date, self._d('2026-02-11'))
        self.assertEqual(second.followup_state, 'active', "the refused request resumes its invoice's reminders")
        self.assertEqual(case.plan_state, 'approved')

    def test_dispute_on_one_invoice_keeps_the_other_comment(self):
        first, second = self._followup_invoice(), self._followup_invoice()
        self._answer(first, 'dispute', reason='amount', comment='We were billed 18 hours, not 15.')
        self._answer(second, 'dispute', reason='delivery', comment='Never delivered.')
        self._answer(first, 'dispute', reason='other', comment='Sent again from another tab.')
        case = self._cases('dispute')
        self.assertEqual(case.move_ids, first | second)
        self.assertRecordValues(case.answer_ids.sorted(lambda answer: answer.move_id.id), [
            {'move_id': first.id, 'dispute_reason': 'amount', 'comment': 'We were billed 18 hours, not 15.'},
            {'move_id': second.id, 'dispute_reason': 'delivery', 'comment': 'Never delivered.'},
        ])

    def test_a_tiny_amount_never_makes_an_empty_installment(self):
        invoice = self._followup_invoice(amount=0.03)
        with self._at('2026-02-02'), self.cr.savepoint():
            result = invoice._followup_customer_response(
                'plan', answer_values('plan', {'installments': '6', 'first_date': '2026-02-10'}))
        self.assertIn('too small', result.get('error') or '')
        self.assertFalse(invoice.followup_case_ids, "nothing is recorded")
        with self._at('2026-02-02'):
            self._answer(invoice, 'plan', installments='3', first_date='2026-02-10')
        self.assertEqual(invoice.followup_case_ids.plan_line_ids.mapped('amount'), [0.01, 0.01, 0.01])

    def test_installments_round_down_and_the_last_takes_the_rest(self):
        invoice = self._followup_invoice(amount=100.0)
        lines = invoice._followup_split_plan(self._d('2026-02-10'), 6)
        self.assertEqual([line['amount'] for line in lines], [16.66] * 5 + [16.7])

    def test_unpaid_invoices_out_of_the_cadence_still_record_answers(self):
        self.policy.min_amount = 5000.0
        under_minimum = self._followup_invoice(amount=1200.0)
        under_minimum.followup_policy_id = self.policy  # its own: it keeps it when the company has none
        self.company.followup_policy_id = False
        no_policy = self._followup_invoice(amount=800.0, partner=self.partner_b)
        self.assertEqual((under_minimum.followup_state, no_policy.followup_state), ('done', 'none'))
        with self._at('2026-02-02'):
            for invoice in (under_minimum, no_policy):
                confirmation = self._answer(invoice, 'promise', promise_date='2026-02-12')
                self.assertNotIn('paid', confirmation)
                self.assertEqual(invoice.followup_case_ids.reason, 'promise', "the answer is recorded")
        with self._at('2026-02-03'):
            self._run_cron()
        self.assertTrue(all(case.is_open for case in (under_minimum | no_policy).followup_case_ids),
                        "an unpaid invoice's case is not closed as paid")
        self.assertEqual(len((under_minimum | no_policy).followup_case_ids), 2)


@tagged('post_install', '-at_install')
class TestCustomerAnswersRace(TransactionCase):
    """Two tabs, or a double click: the other request committed the case after this one read that there was none.

    A class of its own: the invoicing test setup holds locks on the main company that the other transaction needs.
    """

    @mute_logger('odoo.sql_db')
    def test_same_answer_committed_meanwhile_is_retried(self):
        """The collision is a concurrency error, so that Odoo retries the request (which then finds the case and
        answers like the first submit), instead of a constraint error page."""
        company = self.env.ref('base.main_company')
        partner = self.env.ref('base.partner_admin')
        Case = self.env['invoice.followup.case']
        self.assertFalse(Case.search([('partner_id', '=', partner.id), ('company_id', '=', company.id)]))
        with self.registry.cursor() as other:
            other.execute("SET LOCAL lock_timeout = '10s'")
            other.execute(
                "INSERT INTO invoice_followup_case (company_id, partner_id, reason, is_open) "
                "VALUES (%s, %s, 'promise', TRUE) RETURNING id", [company.id, partner.id])
            [other_id] = other.fetchone()
            other.commit()
        try:
            with self.assertRaises(ConcurrencyError), self.cr.savepoint():
                Case._followup_open(self.env['account.move'], 'promise', partner=partner, company=company)
        finally:
            with self.registry.cursor() as other:
                other.execute("DELETE FROM invoice_followup_case WHERE id = %s", [other_id])
                other.commit()


@tagged('post_install', '-at_install')
class TestCustomerAnswersPortal(CustomerAnswersCommon, HttpCase):
    """The page: a second submit answers like the first, unpaid invoices never read as paid, and its links carry
    only its own token."""

    def _url(self, token, action=None):
        url = f'/invoice_followup/respond/{token}'
        return f'{url}/{action}' if action else url

    def _post(self, token, action, **data):
        self.authenticate(None, None)
        return self.url_open(self._url(token, action), data={'csrf_token': http.Request.csrf_token(self), **data})

    @staticmethod
    def _confirmation(response):
        found = re.search(r'<div class="alert alert-success" role="status">(.*?)</div>', response.text, re.S)
        return found and found.group(1).strip()

    def test_double_submit_answers_like_the_first(self):
        answers = {
            'promise': {'promise_date': '2026-02-12'},
            'plan': {'installments': '3', 'first_date': '2026-02-15'},
            'dispute': {'reason': 'amount', 'comment': 'We ordered 10.'},
        }
        for action, data in answers.items():
            invoice = self._followup_invoice(amount=1200.0, partner=self.partner_b)
            token = invoice._followup_respond_token()
            with self._at('2026-02-02'):
                first = self._post(token, action, **data)
                messages = len(invoice.message_ids)
                second = self._post(token, action, **data)
            self.assertEqual((first.status_code, second.status_code), (200, 200), action)
            self.assertTrue(self._confirmation(first), action)
            self.assertEqual(self._confirmation(second), self._confirmation(first), action)
            self.assertEqual(len(invoice.followup_case_ids), 1, action)
            self.assertEqual(len(invoice.followup_answer_ids), 1, action)
            invoice.invalidate_recordset(['message_ids'])
            self.assertEqual(len(invoice.message_ids), messages, f"{action}: the second submit records nothing more")

    def test_tiny_amount_plan_gets_a_clear_message(self):
        invoice = self._followup_invoice(amount=0.03)
        with self._at('2026-02-02'):
            response = self._post(invoice._followup_respond_token(), 'plan', installments='6',
                                  first_date='2026-02-10')
        self.assertEqual(response.status_code, 400)
        self.assertIn('too small', response.text)
        self.assertFalse(invoice.followup_case_ids)

    def test_unpaid_invoice_out_of_the_cadence_says_what_is_due(self):
        self.policy.min_amount = 5000.0
        under_minimum = self._followup_invoice(amount=1200.0)
        under_minimum.followup_policy_id = self.policy  # its own: it keeps it when the company has none
        self.company.followup_policy_id = False
        no_policy = self._followup_invoice(amount=800.0, partner=self.partner_b)
        for invoice, due in ((under_minimum, '1,200.00'), (no_policy, '800.00')):
            token = invoice._followup_respond_token()
            page = self.url_open(self._url(token))
            self.assertNotIn('is paid', page.text)
            self.assertIn(due, page.text)
            self.assertIn('name="promise_date"', page.text, "the customer can answer")
            with self._at('2026-02-02'):
                answer = self._post(token, 'dispute', reason='quality', comment='Broken on arrival.')
            self.assertEqual(answer.status_code, 200)
            self.assertNotIn('is paid', answer.text)
            self.assertEqual(invoice.followup_case_ids.reason, 'dispute', "the answer is recorded")

    def test_page_hands_out_no_portal_token(self):
        invoice = self._followup_invoice(amount=1200.0)
        self.assertFalse(invoice.access_token)
        token = invoice._followup_respond_token()
        page = self.url_open(self._url(token))
        self.assertEqual(page.status_code, 200)
        self.assertIn(self._url(token, 'pay'), page.text, "paying goes through the page's own token")
        self.assertIn(self._url(token, 'invoice'), page.text, "so does reading the invoice")
        document = self.url_open(self._url(token, 'invoice'))
        self.assertEqual(document.status_code, 200)
        self.assertIn(invoice.name, document.text)
        pay = self.url_open(self._url(token, 'pay'), allow_redirects=False)
        self.assertEqual(pay.status_code, 303)
        location = urlsplit(pay.headers['Location'])
        self.assertEqual(location.path, '/payment/pay', "Odoo's payment link for the invoice")
        self.assertEqual(parse_qs(location.query), {
            'invoice_id': [str(invoice.id)], 'amount': ['1200.0'],
            'access_token': [payment_utils.generate_access_token(
                invoice.partner_id.id, 1200.0, invoice.currency_id.id, env=self.env)],
        }, "with a token scoped to the amount, the customer and the currency")
        invoice.invalidate_recordset(['access_token'])
        self.assertFalse(invoice.access_token, "showing the page, the invoice or the way to pay creates no token")
        portal_token = invoice._portal_ensure_token()
        page = self.url_open(self._url(token))
        self.assertNotIn(portal_token, page.text)
        pay = self.url_open(self._url(token, 'pay'), allow_redirects=False)
        self.assertNotIn(portal_token, pay.headers['Location'])
        self.assertEqual(self.url_open(self._url('garbage', 'pay')).status_code, 404)
        self.assertEqual(self.url_open(self._url('garbage', 'invoice')).status_code, 404)
        self.assertEqual(self.url_open(pay.headers['Location']).status_code, 200, "Odoo takes the payment link")
