# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import InvoiceFollowupCommon

# What every pixel answers, valid token or not: a 1x1 transparent GIF.
PIXEL = (b'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,'
         b'\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x01D\x00;')
TRACKING_FIELDS = ('opened_date', 'clicked_date', 'clicked_link')


@tagged('post_install', '-at_install')
class TestReminderTracking(InvoiceFollowupCommon, HttpCase):
    """Opens and clicks of a reminder e-mail: its links and pixel, the routes that record the first event only, the
    same answer for every bad token, nothing else changed, and the company's privacy setting."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._followup_invoice(amount=1200.0, due='2026-01-31')

    # -------------------------------------------------------------------------
    # HELPERS
    # -------------------------------------------------------------------------

    def _send(self, invoices=None, day='2026-01-31'):
        """Send the reminders due on ``day``; return the customer's e-mail of the first invoice and its log."""
        invoices = invoices or self.invoice
        with self._at(day):
            self._run_cron()
        log = self._logs(invoices)[:1]
        self.assertTrue(log, "the reminder went out")
        return log.mail_id, log

    def _run_cron(self):
        # An HttpCase runs in the registry's test mode already.
        self.cron.method_direct_trigger()
        self.env.invalidate_all()

    def _respond_move(self, url):
        """The invoice a self-service link opens (its token expires: two links made at two moments differ)."""
        parts = urlsplit(url)
        if not parts.path.startswith('/invoice_followup/respond/'):
            return None
        with self._at('2026-02-01'):
            return self.env['account.move']._followup_from_respond_token(parts.path.rsplit('/', 1)[1])

    @staticmethod
    def _hrefs(body):
        return [unescape(href) for href in re.findall(r'href="([^"]*)"', body)]

    def _tracked(self, body):
        """The e-mail's tracked links by what they lead to: {kind: (tracking url, destination)}."""
        links = {}
        for href in self._hrefs(body):
            parts = urlsplit(href)
            if parts.path.startswith('/invoice_followup/click/'):
                kind = parts.path.rsplit('/', 1)[1].split('.')[1]
                links[kind] = (f'{parts.path}?{parts.query}', parse_qs(parts.query)['url'][0])
        return links

    @staticmethod
    def _pixel(body):
        found = re.findall(r'src="[^"]*(/invoice_followup/open/[^"]+)"', body)
        return found[0] if found else None

    def _get(self, url):
        self.authenticate(None, None)
        return self.url_open(url, allow_redirects=False)

    def _tracking(self, log):
        log.invalidate_recordset()
        return {name: log[name] for name in TRACKING_FIELDS}

    # -------------------------------------------------------------------------
    # THE E-MAIL
    # -------------------------------------------------------------------------

    def test_email_links_go_through_tracking_and_carry_a_pixel(self):
        mail, log = self._send()
        body = mail.body_html
        links = self._tracked(body)
        self.assertEqual(set(links), {'pay', 'respond', 'view'}, "pay now, let us know and the layout's button")
        self.assertIn('/my/invoices/', links['pay'][1])
        self.assertIn('payment=True', links['pay'][1])
        self.assertEqual(self._respond_move(links['respond'][1]), self.invoice)
        self.assertIn('/mail/view', links['view'][1])
        for href in self._hrefs(body):
            self.assertNotIn('/invoice_followup/respond/', urlsplit(href).path, "no untracked self-service link")
            self.assertFalse(urlsplit(href).path.startswith('/my/invoices/'), "no untracked pay link")
        self.assertTrue(self._pixel(body).startswith(f'/invoice_followup/open/{log.id}.open.'))
        self.assertEqual(log.mail_message_id.body.count('/invoice_followup/open/'), 0,
                         "the chatter keeps the plain message: people reading it are not counted")
        self.assertFalse(any(self._tracking(log).values()), "sending records no open")

    def test_test_emails_are_not_tracked(self):
        self.company.write({'followup_test_mode': True, 'followup_test_email': 'test@company.example'})
        mail, log = self._send()
        self.assertTrue(log.is_test)
        self.assertIsNone(self._pixel(mail.body_html))
        self.assertFalse(self._tracked(mail.body_html))
        self.assertTrue(any('/invoice_followup/respond/' in href for href in self._hrefs(mail.body_html)))
        # Even a signed token records nothing on a test reminder.
        self._get(f'/invoice_followup/open/{log._followup_tracking_token("open")}')
        self.assertFalse(any(self._tracking(log).values()))

    # -------------------------------------------------------------------------
    # THE ROUTES
    # -------------------------------------------------------------------------

    def test_pixel_records_the_first_open_once(self):
        mail, log = self._send()
        pixel = self._pixel(mail.body_html)
        with freeze_time('2026-02-02 09:30:00'):
            response = self._get(pixel)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PIXEL)
        self.assertEqual(response.headers['Content-Type'], 'image/gif')
        self.assertIn('no-store', response.headers['Cache-Control'])
        self.assertNotIn('Set-Cookie', response.headers, "no session for a tracking image")
        self.assertEqual(self._tracking(log), {
            'opened_date': self._dt('2026-02-02 09:30:00'), 'clicked_date': False, 'clicked_link': False})
        # The customer reads it again the next day, a scanner fetches the image again: nothing changes.
        with freeze_time('2026-02-03 10:00:00'):
            again = self._get(pixel)
        self.assertEqual((again.status_code, again.content), (200, PIXEL))
        self.assertEqual(self._tracking(log)['opened_date'], self._dt('2026-02-02 09:30:00'))

    def test_click_records_the_first_click_once_and_redirects_to_its_link(self):
        mail, log = self._send()
        links = self._tracked(mail.body_html)
        with freeze_time('2026-02-02 09:30:00'):
            response = self._get(links['pay'][0])
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers['Location'], links['pay'][1], "to the pay link the e-mail carried")
        self.assertEqual(self._tracking(log), {
            'opened_date': self._dt('2026-02-02 09:30:00'),  # a click says the e-mail was opened
            'clicked_date': self._dt('2026-02-02 09:30:00'), 'clicked_link': 'pay'})
        # A scanner following the same link later, the customer then asking a question: the first click stays.
        with freeze_time('2026-02-03 10:00:00'):
            self.assertEqual(self._get(links['pay'][0]).headers['Location'], links['pay'][1])
            respond = self._get(links['respond'][0])
            self._get(self._pixel(mail.body_html))
        self.assertEqual(respond.status_code, 303)
        self.assertEqual(respond.headers['Location'], links['respond'][1])
        self.assertEqual(self._tracking(log), {
            'opened_date': self._dt('2026-02-02 09:30:00'),
            'clicked_date': self._dt('2026-02-02 09:30:00'), 'clicked_link': 'pay'})

    def test_open_then_click_keeps_the_open(self):
        mail, log = self._send()
        with freeze_time('2026-02-02 09:30:00'):
            self._get(self._pixel(mail.body_html))
        with freeze_time('2026-02-04 16:00:00'):
            self._get(self._tracked(mail.body_html)['view'][0])
        self.assertEqual(self._tracking(log), {
            'opened_date': self._dt('2026-02-02 09:30:00'),
            'clicked_date': self._dt('2026-02-04 16:00:00'), 'clicked_link': 'view'})

    def test_bad_tokens_record_nothing_and_all_get_the_same_answer(self):
        mail, log = self._send()
        links = self._tracked(mail.body_html)
        path, destination = links['pay']
        token = urlsplit(path).path.rsplit('/', 1)[1]
        log_id, kind, signature = token.split('.')
        unknown = self.env['invoice.followup.log'].browse(log.id + 1000)
        other = self._followup_invoice(amount=50.0, due='2026-03-31')
        other_log = self.env['invoice.followup.log'].sudo().create({
            'move_id': other.id, 'step_id': self.step_due.id, 'cycle_key': other.invoice_date_due,
            'currency_id': other.currency_id.id})
        bad_clicks = {
            'unknown reminder': f'/invoice_followup/click/{unknown._followup_tracking_token("pay", destination)}'
                                f'?url={destination}',
            'wrong signature': f'/invoice_followup/click/{log_id}.{kind}.{signature[:-1]}0?url={destination}',
            'another reminder': f'/invoice_followup/click/{other_log.id}.{kind}.{signature}?url={destination}',
            'tampered destination': f'/invoice_followup/click/{token}?url=https://evil.example/',
            'another link kind': f'/invoice_followup/click/{log_id}.view.{signature}?url={destination}',
            'no destination': f'/invoice_followup/click/{token}',
            'the pixel token': f'/invoice_followup/click/{self._pixel(mail.body_html).rsplit("/", 1)[1]}',
            'garbage': '/invoice_followup/click/not-a-token?url=https://evil.example/',
            'not ascii': f'/invoice_followup/click/{log_id}.{kind}.{signature[:-1]}é?url={destination}',
        }
        answers = set()
        for name, url in bad_clicks.items():
            with self.subTest(name):
                response = self._get(url)
                self.assertEqual(response.status_code, 303)
                self.assertNotIn('evil', response.headers['Location'])
                answers.add((response.status_code, response.headers['Location'], response.content))
        self.assertEqual(len(answers), 1, "every bad click token gets the very same answer")
        self.assertEqual(urlsplit(answers.pop()[1]).path, '/')
        bad_pixels = [
            f'/invoice_followup/open/{unknown._followup_tracking_token("open")}',
            f'/invoice_followup/open/{log_id}.open.{signature}',
            f'/invoice_followup/open/{other_log.id}.open.{self._pixel(mail.body_html).rsplit(".", 1)[1]}',
            f'/invoice_followup/open/{token}',
            '/invoice_followup/open/garbage',
            f'/invoice_followup/open/{log_id}².open.{signature}',
        ]
        for url in bad_pixels:
            with self.subTest(url):
                response = self._get(url)
                self.assertEqual((response.status_code, response.content), (200, PIXEL), "the same image")
        self.assertFalse(any(self._tracking(log).values()))
        self.assertFalse(any(self._tracking(other_log).values()))

    def test_routes_change_nothing_else(self):
        mail, log = self._send()
        self.invoice.invalidate_recordset()
        fields_to_keep = [name for name, field in log._fields.items()
                          if field.store and name not in TRACKING_FIELDS]
        log_before = log.read(fields_to_keep)[0]
        invoice_before = self.invoice.read(['write_date', 'followup_state', 'payment_state', 'access_token'])[0]
        messages, mails = len(self.invoice.message_ids), self.env['mail.mail'].search_count([])
        cases = self.env['invoice.followup.case'].search_count([])
        links = self._tracked(mail.body_html)
        self._get(self._pixel(mail.body_html))
        for path, _destination in links.values():
            self._get(path)
        log.invalidate_recordset()
        self.invoice.invalidate_recordset()
        self.assertTrue(log.opened_date and log.clicked_date)
        self.assertEqual(log.read(fields_to_keep)[0], log_before, "the reminder's other fields, its last update too")
        self.assertEqual(
            self.invoice.read(['write_date', 'followup_state', 'payment_state', 'access_token'])[0], invoice_before)
        self.assertEqual(len(self.invoice.message_ids), messages)
        self.assertEqual(self.env['mail.mail'].search_count([]), mails)
        self.assertEqual(self.env['invoice.followup.case'].search_count([]), cases)

    def test_consolidated_email_records_on_each_of_its_reminders(self):
        self.company.followup_consolidate = True
        other = self._followup_invoice(amount=300.0, due='2026-01-31')
        mail, _log = self._send(self.invoice | other)
        logs = self._logs(self.invoice | other)
        self.assertEqual(len(logs.mail_message_id), 1, "one e-mail for both invoices")
        links = self._tracked(mail.body_html)
        self.assertEqual(set(links), {'pay', 'respond'}, "the consolidated template has no layout button")
        with freeze_time('2026-02-02 09:30:00'):
            self._get(links['respond'][0])
        for log in logs:
            self.assertEqual(self._tracking(log), {
                'opened_date': self._dt('2026-02-02 09:30:00'),
                'clicked_date': self._dt('2026-02-02 09:30:00'), 'clicked_link': 'respond'})

    # -------------------------------------------------------------------------
    # PRIVACY
    # -------------------------------------------------------------------------

    def test_tracking_off_sends_plain_emails_and_records_nothing(self):
        self.company.followup_tracking = False
        mail, log = self._send()
        body = mail.body_html
        self.assertIsNone(self._pixel(body))
        self.assertFalse(self._tracked(body))
        hrefs = self._hrefs(body)
        self.assertTrue(any(self._respond_move(href) == self.invoice for href in hrefs), "the plain self-service link")
        self.assertTrue(any('/my/invoices/' in href and 'payment=True' in href for href in hrefs), "the plain pay link")
        # Links of e-mails sent while tracking was on still lead where they did, and record nothing.
        pay = next(href for href in hrefs if 'payment=True' in href)
        token = log._followup_tracking_token('pay', pay)
        self.authenticate(None, None)
        response = self.url_open('/invoice_followup/click/' + token, params={'url': pay}, allow_redirects=False)
        self.assertEqual((response.status_code, response.headers['Location']), (303, pay))
        self.assertEqual(self._get(f'/invoice_followup/open/{log._followup_tracking_token("open")}').content, PIXEL)
        self.assertFalse(any(self._tracking(log).values()))

    @staticmethod
    def _dt(value):
        return fields.Datetime.to_datetime(value)
