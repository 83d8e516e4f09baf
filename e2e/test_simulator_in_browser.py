"""The WhatsApp phone simulator in a real browser: a client files a ticket through the API, the
admin taps Open on their simulated phone, and the client's phone shows "ticket opened"."""
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts.tests.factories import make_admin, make_client
from e2e.test_admin_in_browser import PASSWORD


@pytest.fixture
def people(transactional_db, settings):
    settings.WHATSAPP_SIMULATOR = True
    settings.WHATSAPP_ACCESS_TOKEN = ""
    settings.WHATSAPP_CLIENT_FACTORY = "notifications.whatsapp.clients.default_client"  # console
    admin = make_admin(username="boss", is_staff=True, is_superuser=True,
                       whatsapp_number="+201000000001")
    admin.set_password(PASSWORD)
    admin.save()
    client = make_client(username="karim", whatsapp_number="+201000000077")
    client.set_password(PASSWORD)
    client.save()
    return admin, client


def test_tap_open_on_the_admins_phone_and_the_client_is_told(browser, live_server, people,
                                                             screenshot):
    from notifications.whatsapp.clients import get_whatsapp_client

    get_whatsapp_client.cache_clear()  # the console client, as the settings now say
    admin, client = people
    api = f"{live_server.url}/api"
    token = requests.post(f"{api}/auth/token/", json={"username": "karim", "password": PASSWORD},
                          timeout=30).json()["access"]
    filed = requests.post(f"{api}/tickets/", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                          json={"title": "VPN drops", "description": "Every few minutes.",
                                "project_name": "Network"})
    assert filed.status_code == 201

    browser.get(f"{live_server.url}/admin/login/?next=/simulator/")
    browser.find_element(By.NAME, "username").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait = WebDriverWait(browser, 20)
    wait.until(EC.presence_of_element_located((By.ID, "people")))
    browser.find_element(By.CSS_SELECTOR, f"a[href='/simulator/{admin.pk}/']").click()
    button = wait.until(EC.element_to_be_clickable(
        (By.XPATH, "//button[@class='tap' and normalize-space()='Open']")))
    screenshot("08-simulator-admin-phone")
    button.click()

    browser.get(f"{live_server.url}/simulator/{client.pk}/")
    wait.until(lambda b: "has been opened" in b.find_element(By.ID, "chat").text.lower())
    screenshot("09-simulator-client-phone-opened")
