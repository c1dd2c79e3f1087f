# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import configparser
from pathlib import Path
from unittest import SkipTest

from odoo.tests import BaseCase, tagged

try:
    import yaml
except ImportError:  # PyYAML is not an Odoo requirement
    yaml = None

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / 'docker'


def _mounts(service):
    """Yield (source, target) for each volume of a compose service (short or long syntax)."""
    for volume in service.get('volumes') or []:
        if isinstance(volume, dict):
            yield str(volume.get('source', '')), str(volume['target'])
        else:
            source, target = [*str(volume).split(':'), ''][:2]
            yield source, target


def _is_bind(source):
    return source.startswith(('.', '/', '~'))


@tagged('post_install', '-at_install')
class TestDockerConfig(BaseCase):
    """The Docker try-out stack (docker/) cannot run in CI: check its files agree with each other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        compose_file = DOCKER_DIR / 'compose.yaml'
        if not compose_file.is_file():
            raise SkipTest(f'{compose_file} not found: add-on installed outside its repository')
        if yaml is None:
            raise SkipTest('PyYAML is not installed')
        cls.compose = yaml.safe_load(compose_file.read_text(encoding='utf-8'))
        cls.services = cls.compose.get('services') or {}
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(DOCKER_DIR / 'odoo.conf', encoding='utf-8')
        cls.conf = parser['options'] if parser.has_section('options') else {}

    def test_services_and_images(self):
        for name in ('db', 'odoo', 'mailpit'):
            self.assertIn(name, self.services, f'compose.yaml: service {name!r} is missing')
        self.assertTrue(
            str(self.services['odoo'].get('image', '')).startswith('odoo:19'),
            'compose.yaml: the odoo service must use an odoo:19* image',
        )
        self.assertTrue(
            str(self.services['db'].get('image', '')).startswith('postgres:'),
            'compose.yaml: the db service must use a postgres:* image',
        )

    def test_volumes(self):
        declared = set(self.compose.get('volumes') or {})
        for name, service in self.services.items():
            for source, target in _mounts(service):
                if _is_bind(source):
                    self.assertTrue(
                        (DOCKER_DIR / source).exists(),
                        f'compose.yaml: {name} bind-mounts {source!r} (relative to docker/), which does not exist',
                    )
                elif source:
                    self.assertIn(
                        source,
                        declared,
                        f'compose.yaml: {name} uses volume {source!r} for {target}, not declared in volumes:',
                    )

    def test_addons_path_contains_repository(self):
        mounts = {
            target.rstrip('/'): (DOCKER_DIR / source).resolve()
            for source, target in _mounts(self.services['odoo'])
            if _is_bind(source)
        }
        addons_path = [path.strip().rstrip('/') for path in self.conf.get('addons_path', '').split(',')]
        hosts = [mounts[path] for path in addons_path if path in mounts]
        self.assertTrue(hosts, f'odoo.conf: no addons_path entry {addons_path} is bind-mounted in the odoo service')
        self.assertTrue(
            any((host / 'invoice_followup' / '__manifest__.py').is_file() for host in hosts),
            'odoo.conf: no addons_path entry is mounted from a folder containing invoice_followup/',
        )

    def test_conf_matches_services(self):
        self.assertEqual(self.conf.get('smtp_server'), 'mailpit', 'odoo.conf: smtp_server must be the mailpit service')
        self.assertEqual(self.conf.get('db_host'), 'db', 'odoo.conf: db_host must be the db service')
        db_env = self.services['db'].get('environment') or {}
        if isinstance(db_env, list):
            db_env = dict(item.split('=', 1) for item in db_env)
        self.assertEqual(
            self.conf.get('db_user'),
            str(db_env.get('POSTGRES_USER')),
            'odoo.conf: db_user must equal POSTGRES_USER of the db service',
        )
        self.assertEqual(
            self.conf.get('db_password'),
            str(db_env.get('POSTGRES_PASSWORD')),
            'odoo.conf: db_password must equal POSTGRES_PASSWORD of the db service',
        )
