package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import admin.AdminServer;
import lab.LabRun;
import lab.Report;
import lab.Scenario;
import lab.Workload;
import demo.DemoControl;
import demo.DemoServer;
import java.io.File;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
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
 * At 1024x768, 1280x720 and 1920x1080 it checks what a projector needs and saves target/dashboard-WxH.png.
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
    void theDashboardDrawsHistoryMarksAnEjectionSwitchesStrategyAndDrains() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver to run the browser test");
        DemoServer a = support.demo("demo-1"), b = support.demo("demo-2");
        DemoServer c = support.demo("demo-3", new DemoServer.Faults(Duration.ofMillis(15), Duration.ofMillis(20), 0, DemoServer.Mode.OK));
        ProxyServer proxy = support.proxy(a.url(), b.url(), c.url());
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, null, new DemoControl(List.of(a, b, c)));
        String aName = "127.0.0.1:" + a.port(), bName = "127.0.0.1:" + b.port();
        admin.setLabels(Map.of(aName, "demo-1", bName, "demo-2", "127.0.0.1:" + c.port(), "demo-3"));
        List<CompletableFuture<Void>> traffic = new ArrayList<>();
        for (int client = 0; client < 2; client++) {
            traffic.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20_000 && trafficOn.get(); i++) {
                    try {
                        support.get(proxy, "/");
                        Thread.sleep(8);
                    } catch (Exception e) {
                        return;
                    }
                }
            }));
        }

        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--window-size=1280,720", "--user-data-dir=" + Files.createTempDirectory("chromium"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
        browser.get("http://127.0.0.1:" + admin.port() + "/");
        fitViewport(1280, 720);
        // The table is redrawn every second, so an element found a moment ago may be gone: look again.
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.ignoring(StaleElementReferenceException.class);
        JavascriptExecutor js = (JavascriptExecutor) browser;

        long first = requestsShownFor(wait, bName);
        wait.until(driver -> requestsShownFor(wait, bName) > first); // the numbers move
        assertTrue(rowOf(wait, bName).getText().startsWith("demo-2"), "backends by name: " + rowOf(wait, bName).getText());
        // The charts hold data points: several seconds with requests on the request-rate chart.
        wait.until(driver -> ((Number) js.executeScript(
                "const c = window.dashboard.charts.rate; return c ? c.data[1].filter(v => v > 0).length : 0;")).intValue() >= 3);

        new Select(browser.findElement(By.id("strategy"))).selectByVisibleText("least-connections");
        wait.until(driver -> strategyInStats().equals("least-connections"));

        wait.until(driver -> {
            rowOf(wait, aName).findElement(By.className("drain")).click();
            return true;
        });
        wait.until(driver -> rowOf(wait, aName).findElement(By.className("state")).getText().equals("draining"));
        long atDrain = a.requestCount();
        Thread.sleep(600);
        assertEquals(atDrain, a.requestCount(), "a drained backend receives no new requests");
        long cShown = requestsShownFor(wait, "127.0.0.1:" + c.port());
        wait.until(driver -> requestsShownFor(wait, "127.0.0.1:" + c.port()) > cShown); // while the others still do
        Thread.sleep(2_500); // a few seconds of the drain on the charts
        wait.until(driver -> {
            rowOf(wait, aName).findElement(By.className("drain")).click();
            return true;
        });
        wait.until(driver -> rowOf(wait, aName).findElement(By.className("state")).getText().equals("up"));
        Thread.sleep(3_000); // and a few after it

        // Break demo-2: it resets every connection, the proxy retries elsewhere, and ejects it after three failures.
        HttpResponse<String> broken = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + "/break?backend=" + bName))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, broken.statusCode(), broken.body());
        wait.until(driver -> rowOf(wait, bName).findElement(By.className("state")).getText().startsWith("ejected, back in"));
        wait.until(driver -> (Boolean) js.executeScript(
                "const u = window.dashboard.charts.rate; return window.dashboard.markers.some(m => m.kind === 'ejected' && m.short.startsWith('demo-2')"
                        + " && m.t >= u.scales.x.min && m.t <= u.scales.x.max);")); // the ejection is a marker inside the chart's time axis
        Thread.sleep(2_000); // the retried requests and the others' rise, on the charts

        // The newest events get a label on every chart, above the plot, never over the data lines.
        assertEquals(200, adminCall("/strategy?name=round-robin").statusCode());
        assertEquals(200, adminCall("/drain?backend=demo-3").statusCode(), "a backend by the name the dashboard shows");
        wait.until(driver -> (Boolean) js.executeScript("return window.dashboard.markers.some(m => m.kind === 'drained' && m.short === 'demo-3 drained');"));
        wait.until(driver -> (Boolean) js.executeScript(NEWEST_LABELLED));
        String ejectedState = rowOf(wait, bName).findElement(By.className("state")).getText();
        assertTrue(ejectedState.startsWith("ejected, back in"), ejectedState);
        assertEquals(200, adminCall("/heal?backend=demo-2").statusCode());
        new WebDriverWait(browser, Duration.ofSeconds(3)).ignoring(StaleElementReferenceException.class)
                .until(driver -> rowOf(wait, bName).findElement(By.className("state")).getText().equals("up")); // not in the 10 s the ejection had left
        assertEquals(200, adminCall("/drain?backend=demo-3&off").statusCode());
        Thread.sleep(3_000); // demo-2 back on the charts

        for (int[] size : new int[][] {{1024, 768}, {1280, 720}, {1920, 1080}}) {
            fitViewport(size[0], size[1]);
            Thread.sleep(1_500); // redrawn at the new size
            wait.until(driver -> (Boolean) js.executeScript(NEWEST_LABELLED));
            @SuppressWarnings("unchecked")
            Map<String, Object> layout = (Map<String, Object>) js.executeScript(LAYOUT);
            String at = size[0] + "x" + size[1] + ": " + layout;
            assertEquals(((Number) layout.get("innerWidth")).longValue(), ((Number) layout.get("scrollWidth")).longValue(), "no horizontal scroll at " + at);
            assertTrue(((Number) layout.get("headerRight")).doubleValue() <= size[0] && ((Number) layout.get("headerTop")).doubleValue() >= 0,
                    "the header whole at " + at);
            assertTrue(((Number) layout.get("smallestAxisFont")).doubleValue() >= 16, "axis labels of 16 px or more at " + at);
            assertTrue(((Number) layout.get("smallestEventFont")).doubleValue() >= 16, "event labels of 16 px or more at " + at);
            assertEquals(0L, ((Number) layout.get("timeLabelOverlaps")).longValue(), "time labels apart at " + at);
            assertEquals(0L, ((Number) layout.get("timeLabelsCut")).longValue(), "no time label cut at the chart's edge at " + at);
            assertTrue(((Number) layout.get("timeLabels")).longValue() >= 6, "at least two time labels per chart at " + at);
            assertTrue((Boolean) layout.get("legend"), "a legend naming every backend at " + at);
            assertTrue(((Number) layout.get("scrollHeight")).longValue() <= size[1], "everything on one screen at " + at);
            assertTrue(((Number) layout.get("chartsBottom")).doubleValue() >= 0.8 * size[1], "the charts use the height at " + at);
            Path screenshot = Path.of("target", "dashboard-" + size[0] + "x" + size[1] + ".png").toAbsolutePath();
            Files.createDirectories(screenshot.getParent());
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), screenshot, StandardCopyOption.REPLACE_EXISTING);
            System.out.println("dashboard screenshot: " + screenshot);
        }
        trafficOn.set(false);
        for (CompletableFuture<Void> client : traffic) {
            client.get();
        }
    }

    @Test
    void theLabReportNamesItsBackendsAndSaysWhatToNotice() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver to run the browser test");
        Path scenarios = Path.of("lab/scenarios").toAbsolutePath();
        for (Path dir = Path.of("").toAbsolutePath(); dir != null && !Files.isDirectory(scenarios); dir = dir.getParent()) {
            scenarios = dir.resolve("lab/scenarios"); // tests may run from the project or from tests/
        }
        Scenario scenario = Scenario.load(scenarios.resolve("one-slow.properties"));
        LabRun.run(scenario, Strategies.byName("round-robin").orElseThrow(), Workload.of(1, 80, 1, 0), 1); // warm-up, as the lab does
        List<LabRun.Result> results = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            for (String name : List.of("round-robin", "least-latency", "ip-hash")) {
                results.add(LabRun.run(scenario, Strategies.byName(name).orElseThrow(), Workload.of(7 + run, 80, 1, 0), 7 + run));
            }
        }
        Path report = Path.of("target", "lab-report.html").toAbsolutePath();
        Files.createDirectories(report.getParent());
        Files.writeString(report, Report.html(List.of(scenario), List.of(results), 7));

        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), new ChromeOptions()
                .setBinary(CHROMIUM.toFile()).addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                        "--window-size=1280,720", "--user-data-dir=" + Files.createTempDirectory("chromium")));
        browser.get(report.toUri().toString());
        fitViewport(1280, 720);
        String text = browser.findElement(By.tagName("body")).getText();
        assertTrue(text.contains("b2 slow, 25 ms"), "the legend names the slow backend: " + text);
        assertTrue(text.contains("What to notice: ") && text.contains("slow backend b2"), text);
        assertTrue(text.contains("One backend five times slower"), "the scenario in one line");
        assertTrue(text.contains("p99 latency") && text.contains("ms") && text.contains("% of requests"), "axes with units");
        assertTrue(browser.findElements(By.cssSelector(".chart svg")).size() >= 4, "a chart per metric");

        Path screenshot = Path.of("target", "lab-report.png").toAbsolutePath();
        Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), screenshot, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("lab report screenshot: " + screenshot);
    }

    /** True when, on every chart, the newest event in view has a label, drawn above the plot area. */
    private static final String NEWEST_LABELLED = """
            const d = window.dashboard;
            return Object.entries(d.charts).every(([id, u]) => {
              const shown = d.markers.filter(m => m.t >= u.scales.x.min && m.t <= u.scales.x.max);
              if (shown.length === 0) return false;
              const newest = Math.max(...shown.map(m => m.t));
              const labels = d.labelled['chart-' + id] || [];
              return labels.some(l => l.t === newest) && labels.every(l => l.bottom <= l.plotTop);
            });""";

    /** What a person at the back of the room would check: widths, the header, type sizes, time labels apart, the legend, the height used. */
    private static final String LAYOUT = """
            const d = window.dashboard, header = document.querySelector('header');
            const measure = document.createElement('canvas').getContext('2d');
            let overlaps = 0, labels = 0, cut = 0;
            for (const u of Object.values(d.charts)) {
              const axis = u.axes[0];
              measure.font = axis.font[2] + 'px system-ui';
              const spans = axis._splits.map((t, i) => [u.valToPos(t, 'x'), measure.measureText(axis._values[i] || '').width])
                  .filter(([x, w]) => w > 0 && x >= 0 && x <= u.bbox.width / devicePixelRatio).map(([x, w]) => [x - w / 2, x + w / 2]);
              labels += spans.length;
              for (let i = 1; i < spans.length; i++) if (spans[i][0] < spans[i - 1][1] + 4) overlaps++;
              cut += spans.filter(([left, right]) => left + u.bbox.left / devicePixelRatio < 0
                  || right + u.bbox.left / devicePixelRatio > u.width).length;
            }
            const legend = document.getElementById('legend').textContent;
            return { innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
                     scrollHeight: document.documentElement.scrollHeight,
                     headerTop: header.getBoundingClientRect().top,
                     headerRight: Math.max(...[...header.children].map(c => c.getBoundingClientRect().right)),
                     smallestAxisFont: Math.min(...Object.values(d.charts).flatMap(u => u.axes.map(a => a.font[2]))),
                     smallestEventFont: Math.min(...Object.values(d.labelled).flat().map(l => l.fontPx)),
                     timeLabelOverlaps: overlaps, timeLabels: labels, timeLabelsCut: cut,
                     legend: ['demo-1', 'demo-2', 'demo-3', 'p99', 'p50', 'events'].every(word => legend.includes(word)),
                     chartsBottom: document.querySelector('.charts').getBoundingClientRect().bottom };""";

    private HttpResponse<String> adminCall(String pathAndQuery) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sizes the window so the page itself (not the window with its frame) is width x height, as on a projector. */
    private void fitViewport(int width, int height) {
        JavascriptExecutor js = (JavascriptExecutor) browser;
        Dimension outer = browser.manage().window().getSize();
        long innerWidth = ((Number) js.executeScript("return window.innerWidth")).longValue();
        long innerHeight = ((Number) js.executeScript("return window.innerHeight")).longValue();
        browser.manage().window().setSize(new Dimension(outer.width + width - (int) innerWidth, outer.height + height - (int) innerHeight));
    }

    private WebElement rowOf(WebDriverWait wait, String backend) {
        return wait.until(driver -> driver.findElement(By.cssSelector("tr[data-backend='" + backend + "']")));
    }

    private long requestsShownFor(WebDriverWait wait, String backend) {
        return wait.until(driver -> Long.parseLong(rowOf(wait, backend).findElement(By.className("count")).getText()));
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
