"""Sign-in in headless chromium through the demo OpenID provider's own login form (tests/idp.py): a partner sees
partner-only content, and after signing out sees the public pages again."""

import pytest
from selenium.webdriver.common.by import By

from tests.a11y import serious_violations
from tests.helpers import wait_for
from tests.idp import free_port, oidc_settings, start_provider
from vrp.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in_app(dash_duo, demo_warehouse):
    port = free_port()
    process, issuer = start_provider(port)
    app = create_app(oidc_settings(demo_warehouse.with_(cache_type="SimpleCache"), issuer))
    dash_duo.start_server(app, port=port)
    yield dash_duo
    process.terminate()
    process.wait(10)
    for wh in app.server.config["VRP_WAREHOUSES"].values():
        wh.dispose()


def account_text(duo) -> str:
    found = duo.driver.find_elements(By.ID, "account")
    return found[0].text if found else ""


def test_a_partner_signs_in_through_the_provider_and_sees_partner_content(signed_in_app):
    duo = signed_in_app
    duo.driver.get(duo.server_url + "/data?measure=homicide")
    wait_for(lambda: duo.driver.find_elements(By.ID, "data-counts-hidden"))  # public: no load history
    assert account_text(duo) == "Sign in"
    login_link = duo.driver.find_element(By.LINK_TEXT, "Sign in")
    # The link carries the page and its filters (as the filter bar writes them into the address).
    wait_for(lambda: "measure%3Dhomicide" in (login_link.get_attribute("href") or ""))
    came_from = duo.driver.current_url
    duo.driver.find_element(By.LINK_TEXT, "Sign in").click()
    # The provider's own login form (oidc-provider's devInteractions).
    login = wait_for(lambda: duo.driver.find_elements(By.NAME, "login"))[0]
    login.send_keys("partner")
    duo.driver.find_element(By.NAME, "password").send_keys("any password")
    duo.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: "Signed in as Demo Partner (partner)" in account_text(duo))
    assert duo.driver.current_url == came_from  # back where "Sign in" was chosen
    assert "OFFICIAL-SENSITIVE" in duo.find_element("#classification").text
    table = wait_for(lambda: duo.driver.find_elements(By.ID, "data-loads"))[0]
    assert "2022-02-hampshire-street.csv" in table.text
    assert serious_violations(duo.driver) == []  # the header's account control and the marking included
    # Sign out: the session here is cleared, then the provider asks to sign out there too and comes back.
    duo.driver.find_element(By.LINK_TEXT, "Sign out").click()
    wait_for(lambda: duo.driver.find_elements(By.CSS_SELECTOR, "button[name=logout]"))[0].click()
    wait_for(lambda: duo.driver.current_url.startswith(duo.server_url) and account_text(duo) == "Sign in")
    duo.driver.get(duo.server_url + "/data")
    wait_for(lambda: duo.driver.find_elements(By.ID, "data-counts-hidden"))
    assert not duo.driver.find_elements(By.ID, "data-loads")
