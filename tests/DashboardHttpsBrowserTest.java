package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import admin.AdminServer;
import demo.DemoServer;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import strategies.StrategyOptions;
import strategies.Strategies;
import tls.ServerTls;

/**
 * Issue 24's browser proof: with TLS on the proxy's listener the admin port speaks HTTPS with the same certificate,
 * and real headless Chromium, trusting exactly that certificate's key, loads the dashboard over https, sees the
 * numbers of HTTPS traffic move and switches the strategy (a POST from an https:// page, which the admin's Origin
 * check must take as its own). Skipped, with the reason, where Chromium or its driver is not installed.
 */
class DashboardHttpsBrowserTest {
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
    void theDashboardLoadsOverHttpsInChromiumWithTheProxysCertificateAndSwitchesStrategy() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver to run the browser test");
        DemoServer a = support.demo("demo-1"), b = support.demo("demo-2");
        ServerTls tls = TestSupport.selfSignedTls();
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "round-robin", new RoundRobin(), List.of(a.url(), b.url()), tls);
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, null);
        assertTrue(admin.isHttps());
        X509Certificate served = tls.certificates().get(0).chain().get(0);
        try (SSLSocket socket = (SSLSocket) TestSupport.trusting(tls).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), admin.port())) {
            socket.startHandshake();
            assertEquals(served, socket.getSession().getPeerCertificates()[0], "the admin port shows the proxy's certificate");
        }

        HttpClient https = HttpClient.newBuilder().sslContext(TestSupport.trusting(tls)).connectTimeout(Duration.ofSeconds(5)).build();
        CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 20_000 && trafficOn.get(); i++) {
                try {
                    https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/")).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    Thread.sleep(10);
                } catch (Exception e) {
                    return;
                }
            }
        });

        // Chromium trusts exactly this key (its SHA-256 SPKI pin), as a user accepting a known self-signed certificate would.
        String spki = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(served.getPublicKey().getEncoded()));
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,720", "--ignore-certificate-errors-spki-list=" + spki, "--user-data-dir=" + Files.createTempDirectory("chromium"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
        browser.get("https://localhost:" + admin.port() + "/");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.ignoring(StaleElementReferenceException.class);
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertEquals("https:", js.executeScript("return location.protocol"), "the dashboard itself came over https");

        String bName = "127.0.0.1:" + b.port();
        long first = requestsShownFor(wait, bName);
        wait.until(driver -> requestsShownFor(wait, bName) > first); // the numbers of the HTTPS traffic move

        new Select(browser.findElement(By.id("strategy"))).selectByVisibleText("least-connections");
        wait.until(driver -> strategyInStats(https).equals("least-connections"));
        trafficOn.set(false);
        traffic.get();
        assertTrue(a.requestCount() > 0 && b.requestCount() > 0, "the backends served the HTTPS traffic");
    }

    private long requestsShownFor(WebDriverWait wait, String backend) {
        return wait.until(driver -> Long.parseLong(driver.findElement(By.cssSelector("tr[data-backend='" + backend + "']"))
                .findElement(By.className("count")).getText()));
    }

    private String strategyInStats(HttpClient https) {
        try {
            return TestSupport.json(https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + admin.port() + "/stats")).build(),
                    HttpResponse.BodyHandlers.ofString())).get("strategy").getAsString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
