# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import content_disposition, request


def answer_values(action, post):
    """The self-service form of ``action`` read into typed values (a date, a number, a text), before any business
    rule: what cannot be read is None, and the invoice says what is wrong in the customer's words
    (``account.move._followup_customer_response``)."""
    def day(name):
        try:
            return fields.Date.to_date(post.get(name)) if post.get(name) else None
        except ValueError:
            return None

    def number(name):
        try:
            return int(post.get(name) or 0)
        except ValueError:
            return 0

    comment = (post.get('comment') or '').strip()
    if action == 'dispute':
        return {'reason': post.get('reason') or '', 'comment': comment}
    if action == 'promise':
        return {'promise_date': day('promise_date')}
    return {'first_date': day('first_date'), 'installments': number('installments'), 'comment': comment}


class InvoiceFollowupPortal(http.Controller):
    """The page every reminder links to: the customer sees what is due and can pay, dispute the invoice,
    promise a payment date or ask for a payment plan.

    The token is signed (HMAC with the database secret), scoped to this page and to one invoice, and expires.
    GET only shows; POST acts, with CSRF, and posting twice changes nothing more. Every bad token (tampered,
    expired, another scope, another invoice, unknown invoice) gets the very same 404. The page's links (the invoice,
    the way to pay) go through the same token: the invoice's permanent portal access token is never handed out.

    The page is a portal page (``website=True``: Odoo's frontend layout, language and assets) that looks sent by the
    invoice's company, whoever the visitor is (usually the public user): its logo and name in the portal's header and
    footer, in the customer's language (the reminder's), unless the visitor picked another one with the portal's
    language selector (a language in the URL, ``/fr/invoice_followup/...``, or its cookie). ``multilang=False``: no
    redirection to the language of the visitor's browser.
    """

    def _get_move(self, token):
        """The invoice of ``token`` in the page's language, or None for any bad token."""
        move = request.env['account.move']._followup_from_respond_token(token)
        if not move:
            return None
        lang = self._page_lang(move)
        if lang != request.lang.code:
            request.lang = request.env['res.lang']._get_data(code=lang)
            request.update_context(lang=lang)
            # What follows in the same browser (Odoo's payment page) speaks it too.
            request.future_response.set_cookie('frontend_lang', lang)
        return move.with_context(lang=lang)

    def _page_lang(self, move):
        """The visitor's language when they have one on this site (in the URL, or the ``frontend_lang`` cookie set by
        Odoo's language selector and by the site's pages visited before), else the customer's when the site offers it,
        else the browser's."""
        if self._lang_in_url() or request.cookies.get('frontend_lang'):
            return request.lang.code
        lang = move.partner_id.lang or move.commercial_partner_id.lang
        if lang in request.env['res.lang']._get_frontend():
            return lang
        return request.lang.code

    @staticmethod
    def _not_found():
        """One answer for every bad token, whatever the session or the language: no page of the site around it."""
        return NotFound().get_response()

    def _render(self, move, token, status=200, **values):
        # Answers and links keep a language chosen in the URL.
        url_prefix = f'/{request.lang.url_code}' if self._lang_in_url() else ''
        return request.render('invoice_followup.respond_page', {
            **move._followup_respond_page_values(token, url_prefix=url_prefix),
            'token': token,
            'res_company': move.company_id,  # the portal layout's logo and name: the invoice's company
            **values,
        }, status=status)

    @staticmethod
    def _lang_in_url():
        """Whether the URL asked for a language (``/fr/invoice_followup/...``). Odoo's routing has already taken it
        out of the path and made it ``request.lang``; the request's original URI still has it."""
        path = request.httprequest.environ.get('REQUEST_URI', '').split('?', 1)[0]
        return path.split('/')[1:2] == [request.lang.url_code]

    @http.route('/invoice_followup/respond/<string:token>', type='http', auth='public', methods=['GET'],
                website=True, multilang=False, sitemap=False)
    def respond_page(self, token, **kwargs):
        move = self._get_move(token)
        if not move:
            return self._not_found()
        return self._render(move, token=token)

    @http.route('/invoice_followup/respond/<string:token>/invoice', type='http', auth='public', methods=['GET'],
                website=True, multilang=False, sitemap=False)
    def respond_invoice(self, token, **kwargs):
        """The invoice's PDF."""
        move = self._get_move(token)
        if not move:
            return self._not_found()
        document = move._followup_respond_document()
        return request.make_response(document['content'], [
            ('Content-Type', 'application/pdf'),
            ('Content-Length', len(document['content'])),
            ('Content-Disposition', content_disposition(document['filename'], disposition_type='inline')),
        ])

    @http.route('/invoice_followup/respond/<string:token>/pay', type='http', auth='public', methods=['GET'],
                website=True, multilang=False, sitemap=False)
    def respond_pay(self, token, **kwargs):
        """To Odoo's payment page for what is due now; back to this page when nothing is."""
        move = self._get_move(token)
        if not move:
            return self._not_found()
        url = move._followup_respond_pay_url() or f'/invoice_followup/respond/{token}'
        return request.redirect(url, code=303)

    @http.route('/invoice_followup/respond/<string:token>/<any(dispute,promise,plan):action>', type='http',
                auth='public', methods=['POST'], website=True, multilang=False, sitemap=False)
    def respond_post(self, token, action, **post):
        move = self._get_move(token)
        if not move:
            return self._not_found()
        result = move._followup_customer_response(action, answer_values(action, post))
        return self._render(
            move, token=token, status=400 if result.get('error') else 200,
            error=result.get('error'), confirmation=result.get('confirmation'), form=action, post=post)
