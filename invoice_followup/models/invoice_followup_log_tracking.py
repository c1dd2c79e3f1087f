# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import html
import re
from urllib.parse import urlencode, urlsplit

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL, consteq
from odoo.tools.misc import hmac

TRACKING_SCOPE = 'invoice_followup.tracking'
OPEN = 'open'
CLICK_LINKS = [('pay', "Pay"), ('respond', "Respond"), ('view', "View")]
PIXEL_PATH = '/invoice_followup/open'
CLICK_PATH = '/invoice_followup/click'
HREF = re.compile(r'href="([^"]*)"')
BODY_END = re.compile(r'</body>', re.IGNORECASE)


def link_kind(url):
    """Which link of a reminder ``url`` is, by what the reminder templates and the e-mail layout produce: the pay link
    (the invoice's portal page asked to pay, ``payment=True``, or ``/payment/pay``), the self-service page
    (``/invoice_followup/respond/...``), the invoice (the layout's button, ``/mail/view``, or its portal page); None for
    any other link (the signature, the company's site, ``mailto:``)."""
    parts = urlsplit(url)
    path = parts.path
    if path.startswith('/invoice_followup/respond/'):
        return 'respond'
    if path == '/payment/pay' or (path.startswith('/my/invoices/') and 'payment=True' in parts.query):
        return 'pay'
    if path == '/mail/view' or path.startswith('/my/invoices/'):
        return 'view'
    return None


class InvoiceFollowupLog(models.Model):
    """Opens and clicks of a reminder e-mail: when the customer first opened it (a tracking pixel) and which link they
    clicked first (``controllers/tracking.py``). Only the first event counts: each is recorded by one conditional
    UPDATE, so that a mail scanner prefetching the links, or a customer reading the e-mail twice, counts once.

    The links are signed per reminder (HMAC with the database secret): a token opens no other reminder, and the
    destination of a click is part of what is signed (no open redirect). Companies may turn tracking off
    (``res.company.followup_tracking``): no pixel, no tracked link, and the routes record nothing."""

    _inherit = 'invoice.followup.log'

    opened_date = fields.Datetime(
        string="Opened On", readonly=True, copy=False,
        help="When the customer first opened the reminder e-mail (as far as their mail client loads images).")
    clicked_date = fields.Datetime(
        string="Clicked On", readonly=True, copy=False, help="When the customer first followed a link of the e-mail.")
    clicked_link = fields.Selection(
        CLICK_LINKS, string="Link Clicked", readonly=True, copy=False, help="The first link the customer followed.")

    # -------------------------------------------------------------------------
    # TOKENS
    # -------------------------------------------------------------------------

    def _followup_tracking_token(self, kind, url=''):
        """``<log id>.<kind>.<signature>``: the signature covers the reminder, the event and the destination. No query
        (the database secret is cached)."""
        self.ensure_one()
        signature = hmac(self.env(su=True), TRACKING_SCOPE, (self.id, kind, url))
        return f'{self.id}.{kind}.{signature}'

    @api.model
    def _followup_from_tracking_token(self, token, url=''):
        """The reminder (sudo) and the event of a tracking token, or ``(empty, None)`` for any bad token: malformed,
        a wrong signature, another destination than the signed one, an unknown reminder."""
        Log = self.sudo().browse()
        parts = (token or '').split('.')
        if len(parts) != 3 or not token.isascii() or not parts[0].isdigit() or len(parts[0]) > 12:
            return Log, None
        log = Log.browse(int(parts[0]))
        kind = parts[1]
        if kind != OPEN and kind not in dict(CLICK_LINKS):
            return Log, None
        url = url if kind != OPEN else ''
        if not consteq(parts[2], log._followup_tracking_token(kind, url).rsplit('.', 1)[1]):
            return Log, None
        return log.exists(), kind

    # -------------------------------------------------------------------------
    # THE E-MAIL (invoice.followup.delivery._post)
    # -------------------------------------------------------------------------

    def _followup_track_body(self, body):
        """The e-mail ``body`` of these reminders (one e-mail: several reminders when consolidated) with its pay,
        respond and view links going through the click route, and the open pixel at the end; unchanged for a test
        e-mail or when the company does not track. The tokens are the first reminder's; the routes record the event
        on every reminder of the e-mail."""
        main = self[:1]
        if not main or main.is_test or not main.company_id.followup_tracking or not body:
            return body
        base_url = main.move_id.get_base_url()

        def track(match):
            url = html.unescape(match.group(1))
            kind = link_kind(url)
            if not kind:
                return match.group(0)
            tracked = f"{base_url}{CLICK_PATH}/{main._followup_tracking_token(kind, url)}?{urlencode({'url': url})}"
            return f'href="{escape(tracked)}"'

        pixel = Markup(
            '<img src="%s" alt="" width="1" height="1" border="0" '
            'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;"/>'
        ) % f"{base_url}{PIXEL_PATH}/{main._followup_tracking_token(OPEN)}"
        tracked = HREF.sub(track, str(body))
        ends = list(BODY_END.finditer(tracked))
        if ends:
            cut = ends[-1].start()
            tracked = f'{tracked[:cut]}{pixel}{tracked[cut:]}'
        else:
            tracked = f'{tracked}{pixel}'
        return Markup(tracked) if isinstance(body, Markup) else tracked

    # -------------------------------------------------------------------------
    # RECORDING (controllers/tracking.py)
    # -------------------------------------------------------------------------

    def _followup_tracking_pending(self, kind):
        """Whether an event ``kind`` of this reminder would still be recorded: its company tracks, and no such event
        was recorded yet. One read, so that the routes answer repeated loads on a read-only cursor."""
        self.ensure_one()
        column = SQL.identifier('opened_date' if kind == OPEN else 'clicked_date')
        return bool(self.env.execute_query(SQL(
            """SELECT 1 FROM invoice_followup_log AS log JOIN res_company AS company ON company.id = log.company_id
                WHERE log.id = %s AND company.followup_tracking AND log.is_test IS NOT TRUE AND log.%s IS NULL""",
            self.id, column)))

    def _followup_record_tracking(self, kind):
        """Record the first open, or the first click (a click implies the e-mail was opened), on this reminder and the
        others of the same e-mail, in one conditional UPDATE: whatever was recorded first stays, nothing else of the
        reminder changes (not even its last update), and nothing is recorded when the company does not track.

        :return: the number of reminders recorded
        """
        self.ensure_one()
        now = fields.Datetime.now()
        if kind == OPEN:
            assignments = SQL("opened_date = %s", now)
            pending = SQL("log.opened_date IS NULL")
        else:
            assignments = SQL(
                "clicked_date = %s, clicked_link = %s, opened_date = COALESCE(log.opened_date, %s)", now, kind, now)
            pending = SQL("log.clicked_date IS NULL")
        rows = self.env.execute_query(SQL(
            """UPDATE invoice_followup_log AS log SET %s
                 FROM invoice_followup_log AS main JOIN res_company AS company ON company.id = main.company_id
                WHERE main.id = %s AND company.followup_tracking AND main.is_test IS NOT TRUE
                  AND (log.id = main.id OR log.mail_message_id = main.mail_message_id)
                  AND %s
            RETURNING log.id""", assignments, self.id, pending))
        self.invalidate_model(['opened_date', 'clicked_date', 'clicked_link'])
        return len(rows)
