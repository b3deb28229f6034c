package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import admin.AdminServer;
import demo.DemoServer;
import java.io.File;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import proxy.ProxyServer;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * The dashboard in a real browser (Debian's headless Chromium, driven by Selenium) while traffic flows:
 * the numbers move, the strategy switcher switches, and a drained backend stops receiving requests.
 * Skipped, with the reason, where Chromium or its driver is not installed ({@code .ci/run} installs them).
 * Saves a screenshot to target/dashboard.png.
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium"), DRIVER = Path.of("/usr/bin/chromedriver");
    private final TestSupport support = new TestSupport();
    private final AtomicBoolean trafficOn = new AtomicBoolean(true);
    private WebDriver browser;
    private AdminServer admin;

    @AfterEach
    void stopEverything() {
        trafficOn.set(false);
        if (browser != null) browser.quit();
        if (admin != null) admin.stop();
        support.close();
    }

    @Test
    void theDashboardShowsLiveTrafficSwitchesStrategyAndDrains() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver to run the browser test");
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = support.proxy(a.url(), b.url(), c.url());
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, null);
        CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 20_000 && trafficOn.get(); i++) {
                try {
                    support.get(proxy, "/");
                    Thread.sleep(5);
                } catch (Exception e) {
                    return;
                }
            }
        });

        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,900", "--user-data-dir=" + Files.createTempDirectory("chromium"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
        browser.get("http://127.0.0.1:" + admin.port() + "/");
        // The table is redrawn twice a second, so an element found a moment ago may be gone: look again.
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
        wait.ignoring(StaleElementReferenceException.class);

        String bName = "127.0.0.1:" + b.port();
        long first = requestsShownFor(wait, bName);
        wait.until(driver -> requestsShownFor(wait, bName) > first); // the numbers move

        new Select(browser.findElement(By.id("strategy"))).selectByVisibleText("least-connections");
        wait.until(driver -> strategyInStats().equals("least-connections"));

        wait.until(driver -> {
            rowOf(wait, bName).findElement(By.className("drain")).click();
            return true;
        });
        wait.until(driver -> rowOf(wait, bName).findElement(By.className("state")).getText().equals("draining"));
        long atDrain = b.requestCount();
        Thread.sleep(600);
        assertEquals(atDrain, b.requestCount(), "a drained backend receives no new requests");
        long aShown = requestsShownFor(wait, "127.0.0.1:" + a.port());
        wait.until(driver -> requestsShownFor(wait, "127.0.0.1:" + a.port()) > aShown); // while the others still do

        Path screenshot = Path.of("target", "dashboard.png").toAbsolutePath();
        Files.createDirectories(screenshot.getParent());
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), screenshot, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("dashboard screenshot: " + screenshot);
        trafficOn.set(false);
        traffic.get();
    }

    private WebElement rowOf(WebDriverWait wait, String backend) {
        return wait.until(driver -> driver.findElement(By.cssSelector("tr[data-backend='" + backend + "']")));
    }

    private long requestsShownFor(WebDriverWait wait, String backend) {
        return wait.until(driver -> Long.parseLong(rowOf(wait, backend).findElement(By.className("requests")).getText()));
    }

    private String strategyInStats() {
        try {
            return TestSupport.json(support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + "/stats")).build(),
                    HttpResponse.BodyHandlers.ofString())).get("strategy").getAsString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
