"""An admin at work in a real browser: logs in, fixes a user's WhatsApp number, finds the failed
WhatsApp messages, and opens the insights page."""
import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts.tests.factories import make_client
from notifications.models import NotificationLog
from tickets.services import ticket_create

PASSWORD = "browser-test-pass"
FAILED_TEXT = "Recipient phone number not in allowed list"


@pytest.fixture
def data(transactional_db):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    client = make_client(username="karim", whatsapp_number="+201000000077")
    ticket = ticket_create(client=client, title="Printer on fire", description="Smoke.",
                           project_name="Office")

    def log(channel, status, **fields):
        return NotificationLog.objects.create(
            ticket=ticket, event="TICKET_CREATED", recipient=admin, channel=channel,
            message="New ticket", status=status, **{"to": "+201000000001", **fields})

    log("WHATSAPP", "FAILED", error_code="131030", http_status=400,
        error_message=f"{FAILED_TEXT}. Add the number in the App Dashboard.")
    log("WHATSAPP", "SENT", provider_message_id="wamid.DELIVERED-ROW")
    log("EMAIL", "FAILED", error_message="SMTP server refused the connection",
        to="dispatch-team-lead@example.com")
    return {"admin": admin, "client": client}


def wait(browser):
    return WebDriverWait(browser, 15)


def log_in(browser, live_server):
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "user-tools")))


def save_number(browser, live_server, user, number):
    browser.get(f"{live_server.url}/admin/auth/user/{user.pk}/change/")
    field = wait(browser).until(
        EC.presence_of_element_located((By.NAME, "profile-0-whatsapp_number")))
    field.clear()
    field.send_keys(number)
    browser.find_element(By.NAME, "_continue").click()


def test_admin_session_in_chromium(browser, live_server, data, screenshot):
    client = data["client"]
    log_in(browser, live_server)
    assert "Notification insights" in browser.page_source
    screenshot("01-admin-index")

    # The "User Profile" inline refuses a number without a country code and says why.
    save_number(browser, live_server, client, "01234567890")
    error = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".errorlist")))
    assert "has no country code" in error.text, error.text
    assert "User Profile" in browser.page_source
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    screenshot("02-user-profile-invalid-number")
    client.profile.refresh_from_db()
    assert client.profile.whatsapp_number == "+201000000077"

    # A valid number with spaces is stored in E.164.
    save_number(browser, live_server, client, "+20 100 123 4567")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    screenshot("03-user-profile-saved")
    client.profile.refresh_from_db()
    assert client.profile.whatsapp_number == "+201001234567"

    # Notification logs, narrowed by clicking the sidebar filters as a person would.
    browser.get(f"{live_server.url}/admin/notifications/notificationlog/")
    browser.find_element(
        By.XPATH, "//details[@data-filter-title='channel']//a[normalize-space()='WhatsApp']").click()
    wait(browser).until(EC.url_contains("channel__exact=WHATSAPP"))
    browser.find_element(
        By.XPATH, "//details[@data-filter-title='status']//a[normalize-space()='Failed']").click()
    wait(browser).until(EC.url_contains("status__exact=FAILED"))
    assert "channel__exact=WHATSAPP" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1
    assert FAILED_TEXT in rows[0].text and "131030" in rows[0].text
    assert "wamid.DELIVERED-ROW" not in browser.page_source
    assert "SMTP server refused" not in browser.page_source
    screenshot("04-failed-whatsapp-logs")

    # At laptop width the error column keeps room to be read, and the page needs no sideways
    # scrolling.
    browser.set_window_size(1366, 900)
    browser.get(f"{live_server.url}/admin/notifications/notificationlog/")
    error, visible = browser.execute_script(
        "const cell = document.querySelector('#result_list td.field-short_error')"
        ".getBoundingClientRect();"
        "const box = document.querySelector('.results').getBoundingClientRect();"
        "return [cell, box];")
    # Wide enough to read, and inside the visible part of the list (not behind its scrollbar).
    assert error["width"] >= 220, error
    assert visible["left"] <= error["left"] and error["right"] <= visible["right"], (error, visible)
    screenshot("04b-logs-at-1366px")
    assert browser.execute_script(
        "const r = document.querySelector('.results'); return r.scrollWidth <= r.clientWidth")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    screenshot("04b-logs-at-1366px")
    # The last column, the number, is whole at the common laptop widths: inside the list, its
    # text not cut.
    for width in (1366, 1400):
        browser.set_window_size(width, 900)
        browser.get(f"{live_server.url}/admin/notifications/notificationlog/")
        cells = browser.execute_script(
            "const box = document.querySelector('.results').getBoundingClientRect();"
            "return [...document.querySelectorAll('#result_list td.field-to')].map(td => "
            "[td.getBoundingClientRect().right, box.right, td.scrollWidth > td.clientWidth]);")
        assert len(cells) == 4 and all(right <= edge and not cut for right, edge, cut in cells), (
            width, cells)
        numbers = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#result_list td.field-to")]
        assert "dispatch-team-lead@example.com" in numbers and "+201000000001" in numbers
        screenshot(f"04c-logs-number-at-{width}px")
    browser.set_window_size(1600, 1000)

    # The insights page, reached from the admin index.
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.LINK_TEXT, "Notification insights").click()
    chart = wait(browser).until(EC.presence_of_element_located((By.ID, "insights-chart")))
    assert chart.find_elements(By.TAG_NAME, "rect")
    summary = browser.find_element(By.ID, "insights-summary").text
    assert "WhatsApp" in summary
    assert "131030" in browser.page_source
    screenshot("05-notification-insights")


def test_insights_with_nothing_logged_says_what_is_missing(browser, live_server, transactional_db,
                                                            screenshot):
    get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    log_in(browser, live_server)
    browser.get(f"{live_server.url}/admin/notifications/notificationinsights/")
    empty = wait(browser).until(EC.presence_of_element_located((By.ID, "insights-chart-empty")))
    assert "Nothing was sent or failed in the last 30 days" in empty.text
    assert not browser.find_elements(By.ID, "insights-chart")
    screenshot("06-notification-insights-empty")


def test_an_unknown_notification_shows_its_attempts_and_asks_before_a_resend(
        browser, live_server, data, screenshot):
    from notifications.models import DeliveryAttempt
    from selenium.webdriver.support.ui import Select

    row = NotificationLog.objects.create(
        ticket=NotificationLog.objects.first().ticket, event="TICKET_OPENED",
        recipient=data["client"], channel="WHATSAPP", to="+201000000077", message="Opened",
        status="UNKNOWN", may_have_been_sent=True, attempt_count=1,
        error_message="No answer from WhatsApp within 10 s.")
    DeliveryAttempt.objects.create(notification=row, number=1, status="UNKNOWN",
                                   may_have_gone_out=True, error_message="No answer within 10 s.")
    log_in(browser, live_server)

    browser.get(f"{live_server.url}/admin/notifications/notificationlog/{row.pk}/change/")
    attempts = wait(browser).until(EC.presence_of_element_located((By.ID, "attempts-group")))
    assert "No answer within 10 s." in attempts.text and "Unknown" in attempts.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", attempts)
    screenshot("07-notification-with-its-attempts")

    browser.get(f"{live_server.url}/admin/notifications/notificationlog/?status__exact=UNKNOWN")
    browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{row.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("resend_including_unknown")
    browser.find_element(By.NAME, "index").click()
    page = wait(browser).until(EC.presence_of_element_located((By.ID, "unknown-rows")))
    assert "may give the person the same message twice" in browser.page_source
    assert "karim" in page.text
    screenshot("08-resend-unknown-asks-first")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Yes, resend them']").click()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    row.refresh_from_db()
    assert row.attempt_count == 2 and row.status == "SKIPPED"  # console mode in this test
