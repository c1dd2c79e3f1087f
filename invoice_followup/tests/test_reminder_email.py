# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestReminderEmail(InvoiceFollowupCommon):
    """What the customer's e-mail says around the template: the layout's button and every link in it."""

    def test_button_names_the_invoice_and_links_are_well_formed(self):
        invoice = self._followup_invoice(amount=1000.0)
        with self._at('2026-01-31'):
            self._run_cron()
        mail = self.env['mail.mail'].search([('mail_message_id', 'in', self._logs(invoice).mail_message_id.ids)])
        self.assertEqual(len(mail), 1)
        body = mail.body_html
        self.assertIn('View Invoice', body, "the layout's button names the document the customer knows")
        self.assertNotIn('Journal Entry', body)
        links = [unescape(link) for link in re.findall(r'href="(https?://[^"]+)"', body)]
        # Opens and clicks: the links lead to their page through the click route, which carries it.
        links += [parse_qs(urlsplit(link).query)['url'][0] for link in links if '/invoice_followup/click/' in link]
        self.assertTrue(any('/payment/pay' in link or '/my/invoices/' in link for link in links),
                        "the e-mail carries the pay link")
        for link in links:
            self.assertNotIn('//', urlsplit(link).path, f"a well-formed link: {link}")
