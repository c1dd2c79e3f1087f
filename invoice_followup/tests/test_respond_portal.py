# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.tests import HttpCase, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestRespondPortal(InvoiceFollowupCommon, HttpCase):
    """The page a reminder links to: signed token, GET shows, POST acts once, bad requests all look alike."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._followup_invoice(amount=1200.0, due='2026-01-31')
        cls.token = cls.invoice._followup_respond_token()

    def _url(self, token=None, action=None):
        url = f'/invoice_followup/respond/{token or self.token}'
        return f'{url}/{action}' if action else url

    def _post(self, action, token=None, **data):
        self.authenticate(None, None)
        return self.url_open(self._url(token, action), data={'csrf_token': http.Request.csrf_token(self), **data})

    def _open_cases(self):
        return self.env['invoice.followup.case'].search([('move_ids', 'in', self.invoice.ids), ('is_open', '=', True)])

    def test_reminder_links_to_the_page(self):
        url = self.invoice.followup_portal_url
        self.assertIn('/invoice_followup/respond/', url)
        token = url.rsplit('/', 1)[1]
        self.assertEqual(self.env['account.move']._followup_from_respond_token(token), self.invoice)

    def test_get_shows_and_changes_nothing(self):
        messages = len(self.invoice.message_ids)
        response = self.url_open(self._url())
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text)
        self.assertIn('1,200.00', response.text)
        self.assertIn(self._url(action='pay'), response.text, "the pay link, through the page's own token")
        self.assertFalse(self._open_cases())
        self.assertEqual(len(self.invoice.message_ids), messages, "a mail scanner prefetching the link changes nothing")

    def test_post_needs_csrf(self):
        response = self.url_open(self._url(action='dispute'), data={'reason': 'amount'})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._open_cases())

    def test_dispute_pauses_once(self):
        response = self._post('dispute', reason='amount', comment='<script>alert(1)</script> We ordered 10, not 12.')
        self.assertEqual(response.status_code, 200)
        self.assertIn('paused', response.text)
        case = self._open_cases()
        self.assertEqual(case.reason, 'dispute')
        self.assertEqual(self.invoice.followup_state, 'paused')
        self.assertTrue(case.activity_ids, "the accountant is asked to look at it")
        body = case.message_ids.filtered(lambda message: 'disputes' in (message.body or ''))[:1].body
        self.assertIn('&lt;script&gt;', body, "customer input is escaped")
        self.assertNotIn('<script>', body)
        messages = len(case.message_ids)
        again = self._post('dispute', reason='amount', comment='again')
        self.assertEqual(again.status_code, 200)
        self.assertEqual(self._open_cases(), case)
        self.assertEqual(len(case.message_ids), messages, "posting twice changes nothing more")

    def test_promise_validated_then_recorded(self):
        with self._at('2026-02-02'):
            for bad in ('', 'not-a-date', '2026-01-15', '2026-02-02', '2026-06-01'):
                response = self._post('promise', promise_date=bad)
                self.assertEqual(response.status_code, 400, bad)
            self.assertFalse(self._open_cases())
            response = self._post('promise', promise_date='2026-02-12')
        self.assertEqual(response.status_code, 200)
        case = self._open_cases()
        self.assertEqual((case.reason, case.promise_date), ('promise', self._d('2026-02-12')))
        self.assertEqual(self.invoice.followup_next_date, self._d('2026-02-13'))

    def test_payment_plan_request(self):
        with self._at('2026-02-02'):
            self.assertEqual(self._post('plan', installments='9', first_date='2026-02-15').status_code, 400)
            self.assertEqual(self._post('plan', installments='3', first_date='2026-02-15', comment='x' * 2001)
                             .status_code, 400)
            response = self._post('plan', installments='3', first_date='2026-02-15')
        self.assertEqual(response.status_code, 200)
        case = self._open_cases()
        self.assertEqual(case.plan_state, 'proposed')
        self.assertEqual(case.plan_line_ids.mapped('amount'), [400.0, 400.0, 400.0])
        self.assertEqual(case.plan_line_ids[-1].date, self._d('2026-04-15'))

    def test_bad_tokens_all_get_the_same_404(self):
        other = self._followup_invoice(partner=self.partner_b)
        expired = None
        with self._at('2025-01-01'):
            expired = self.invoice._followup_respond_token()
        tampered = self.token[:-4] + ('AAAA' if not self.token.endswith('AAAA') else 'BBBB')
        bodies = set()
        for token in (tampered, expired, self.invoice._portal_ensure_token(), 'garbage', 'AQ'):
            for url in (self._url(token), self._url(token, 'dispute')):
                self.authenticate(None, None)
                response = (self.url_open(url) if url.endswith(token) else
                            self.url_open(url, data={'csrf_token': http.Request.csrf_token(self), 'reason': 'amount'}))
                self.assertEqual(response.status_code, 404, url)
                bodies.add(response.text)
        other.button_draft()
        other.button_cancel()
        response = self.url_open(self._url(other._followup_respond_token()))
        self.assertEqual(response.status_code, 404, "a cancelled invoice's page is gone too")
        bodies.add(response.text)
        self.assertEqual(len(bodies), 1, "every bad request answers alike")
        self.assertFalse(self._open_cases())

    def test_token_opens_only_its_invoice(self):
        other = self._followup_invoice(partner=self.partner_b)
        self._post('dispute', token=other._followup_respond_token(), reason='quality')
        self.assertFalse(self._open_cases())
        self.assertTrue(other.followup_case_ids)

    def test_paid_invoice_says_paid_and_records_nothing(self):
        self._register_payment(self.invoice)
        response = self.url_open(self._url())
        self.assertIn('This invoice is paid', response.text)
        response = self._post('dispute', reason='amount')
        self.assertIn('This invoice is paid', response.text)
        self.assertFalse(self._open_cases())

    def test_expiry_is_months_away(self):
        with self._at('2026-01-01'):
            token = self.invoice._followup_respond_token()
        with self._at('2026-05-01'):
            self.assertEqual(self.env['account.move']._followup_from_respond_token(token), self.invoice)
        with self._at('2026-07-15'):
            self.assertFalse(self.env['account.move']._followup_from_respond_token(token))
