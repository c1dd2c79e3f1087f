"""Styled PDFs from `odoo shell`: serve the shell's own database over HTTP while it renders reports.

wkhtmltopdf loads a report's stylesheets and fonts from Odoo over HTTP (the ``report.url`` system parameter, else
``web.base.url``); ``odoo shell`` serves nothing, so the PDFs it renders would come out unstyled. ``serve_reports``
starts Odoo's own threaded WSGI server in this process on a free local port and points ``report.url`` at it while
the block runs; then it puts the parameter back (committing the block's work) and stops the server. Used by
scripts/demo_run_crons.py (the demo's first reminders) and the benchmark. A running Odoo server needs none of this:
its cron renders from the server itself.
"""

import threading
from contextlib import contextmanager

import odoo.http
from odoo.service.server import ThreadedWSGIServerReloadable


@contextmanager
def serve_reports(env):
    httpd = ThreadedWSGIServerReloadable('127.0.0.1', 0, odoo.http.root)
    thread = threading.Thread(target=httpd.serve_forever, name='odoo.service.httpd.reports', daemon=True)
    thread.start()
    params = env['ir.config_parameter'].sudo()
    previous = params.get_param('report.url')
    params.set_param('report.url', f'http://127.0.0.1:{httpd.server_port}')
    env.cr.commit()  # the HTTP threads and cron cursors read it
    try:
        yield httpd.server_port
    except BaseException:
        env.cr.rollback()
        raise
    finally:
        params.set_param('report.url', previous or False)
        env.cr.commit()
        httpd.shutdown()
        httpd.server_close()
