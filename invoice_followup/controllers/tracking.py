# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo import http
from odoo.http import request

from ..models.invoice_followup_log_tracking import CLICK_PATH, OPEN, PIXEL_PATH

# A 1x1 transparent GIF.
PIXEL = base64.b64decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7')
NO_CACHE = [
    ('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0'),
    ('Pragma', 'no-cache'),
    ('Expires', '0'),
]


def _pending(kind):
    """The ``readonly`` rule of the routes: a read-only cursor when there is nothing to record (a bad token, tracking
    off, the event already recorded), as for every repeated load of an e-mail's images and links."""
    def readonly(controller, rule, args):
        log, event = request.env['invoice.followup.log'].sudo()._followup_from_tracking_token(
            args.get('token'), request.httprequest.args.get('url', ''))
        if not log or (kind == OPEN) != (event == OPEN):
            return True
        return not log._followup_tracking_pending(event)
    return readonly


class InvoiceFollowupTracking(http.Controller):
    """Opens and clicks of the reminder e-mails (``invoice.followup.log._followup_track_body`` writes the links).

    GET only, no session, no cookie: the answer says nothing of the token. The pixel is always the same image, valid
    token or not; a click goes to the link the e-mail carried (signed with it: no open redirect) and every bad token
    to the site's root. Recording changes the reminder's tracking fields only, once (see
    ``_followup_record_tracking``)."""

    @http.route(f'{PIXEL_PATH}/<string:token>', type='http', auth='public', methods=['GET'], csrf=False,
                save_session=False, readonly=_pending(OPEN), sitemap=False)
    def tracking_open(self, token, **kwargs):
        log, event = request.env['invoice.followup.log'].sudo()._followup_from_tracking_token(token)
        if log and event == OPEN and not request.env.cr.readonly:
            log._followup_record_tracking(OPEN)
        return request.make_response(PIXEL, [
            ('Content-Type', 'image/gif'), ('Content-Length', str(len(PIXEL))), *NO_CACHE])

    @http.route(f'{CLICK_PATH}/<string:token>', type='http', auth='public', methods=['GET'], csrf=False,
                save_session=False, readonly=_pending('click'), sitemap=False)
    def tracking_click(self, token, url='', **kwargs):
        log, event = request.env['invoice.followup.log'].sudo()._followup_from_tracking_token(token, url)
        if not log or event == OPEN:
            return self._neutral()
        if not request.env.cr.readonly:
            log._followup_record_tracking(event)
        response = request.redirect(url, code=303, local=False)
        response.headers.extend(NO_CACHE)
        return response

    @staticmethod
    def _neutral():
        """One answer for every bad click token: the site's root."""
        response = request.redirect('/', code=303)
        response.headers.extend(NO_CACHE)
        return response
