package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import admin.AdminServer;
import demo.DemoServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import proxy.ProxyServer;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * With {@code --admin-token}, the dashboard works in a real browser (headless Chromium): the login form
 * sets the session cookie, the page's own fetches carry it, and its changes (which send X-LB-Admin)
 * take effect. Skipped, with the reason, where Chromium or its driver is not installed.
 */
class AdminLoginBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium"), DRIVER = Path.of("/usr/bin/chromedriver");
    private static final String TOKEN = "browser-token-123";
    private final TestSupport support = new TestSupport();
    private WebDriver browser;
    private AdminServer admin;

    @AfterEach
    void stopEverything() {
        if (browser != null) browser.quit();
        if (admin != null) admin.stop();
        support.close();
    }

    @Test
    void theLoginFormLetsTheDashboardWorkWithAToken() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver to run the browser test");
        DemoServer a = support.demo("a"), b = support.demo("b");
        ProxyServer proxy = support.proxy(a.url(), b.url());
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, TOKEN);
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,800", "--user-data-dir=" + Files.createTempDirectory("chromium"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));

        browser.get("http://127.0.0.1:" + admin.port() + "/");
        browser.findElement(By.id("token")).sendKeys("wrong");
        browser.findElement(By.id("login")).click();
        wait.until(driver -> driver.getPageSource().contains("Wrong token."));

        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.id("login")).click();
        wait.until(driver -> !driver.findElements(By.cssSelector("tr[data-backend='127.0.0.1:" + a.port() + "']")).isEmpty());

        new Select(browser.findElement(By.id("strategy"))).selectByVisibleText("least-connections");
        wait.until(driver -> strategyInStats().equals("least-connections"));
        assertEquals(0, browser.manage().getCookies().stream().filter(cookie -> cookie.getValue().contains(TOKEN)).count(),
                "the cookie is a session, not the token");
        assertTrue(browser.manage().getCookieNamed("lb_admin").isHttpOnly());
    }

    private String strategyInStats() {
        try {
            return TestSupport.json(support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + "/stats"))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString())).get("strategy").getAsString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
