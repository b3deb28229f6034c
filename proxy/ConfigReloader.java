package proxy;

import model.PoolEvent;
import config.ConfigException;
import config.ConfigProblem;
import config.GatewayConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import tls.ServerCertificate;
import tls.ServerTls;

/**
 * Reloads the configuration on request (SIGHUP, the admin API's POST /reload, a change to the watched
 * file): builds and validates the new one first, the TLS listener's certificates included, refuses a bad one
 * with every problem (logged to the event log) while the old one keeps serving, and otherwise has
 * {@link ProxyServer#reload} apply the difference and {@link ServerTls} serve the new certificates to new
 * handshakes. Thread-safe: one reload at a time.
 */
public final class ConfigReloader {
    /**
     * What one reload did.
     *
     * @param lines the changes applied, or every problem that refused it
     */
    public record Result(boolean applied, List<String> lines) {}

    /**
     * What a reload read, every part checked.
     *
     * @param gateway      upstreams and routes, or null to keep them (the command line alone configures the proxy)
     * @param certificates the TLS listener's certificates read afresh, or null to keep them (plain HTTP, or
     *                     {@code --tls self-signed}, which is made once at start)
     */
    public record Next(GatewayConfig gateway, List<ServerCertificate> certificates) {}

    private final ProxyServer server;
    private final Supplier<Next> source;
    private final Path file;
    private final boolean readsCertificates;
    private volatile Thread watcher;

    /**
     * @param source reads and validates the configuration again; throws {@link ConfigException} with its problems
     * @param file   the file it reads, or null when the command line alone configures the proxy
     */
    public ConfigReloader(ProxyServer server, Supplier<GatewayConfig> source, Path file) {
        this(server, () -> new Next(source.get(), null), file, false);
    }

    private ConfigReloader(ProxyServer server, Supplier<Next> source, Path file, boolean readsCertificates) {
        this.server = server;
        this.source = source;
        this.file = file;
        this.readsCertificates = readsCertificates;
    }

    /**
     * A reloader that reads the listener's certificate files again too (as nginx does on SIGHUP), with or without a
     * configuration file: renewed certificates serve without a restart.
     *
     * @param source reads and validates everything again; throws {@link ConfigException} naming each bad file
     */
    public static ConfigReloader withCertificates(ProxyServer server, Supplier<Next> source, Path file) {
        return new ConfigReloader(server, source, file, server.tls() != null);
    }

    /** The file it reloads, or null when the command line alone configures the proxy. */
    public Path file() {
        return file;
    }

    /** Reloads now; {@code trigger} ("SIGHUP", "POST /reload", "file changed") goes into the event log. */
    public synchronized Result reload(String trigger) {
        if (file == null && !readsCertificates) {
            server.events().record(PoolEvent.of(PoolEvent.Kind.OTHER, trigger + ": nothing to reload (there is no configuration file; start with --config FILE); still running"));
            return new Result(false, List.of("there is no configuration file to reload; start with --config FILE"));
        }
        Next next;
        try {
            next = source.get();
        } catch (ConfigException e) {
            return refused(trigger, e.problems().stream().map(ConfigProblem::toString).toList());
        } catch (RuntimeException e) {
            return refused(trigger, List.of(what() + ": " + e.getMessage()));
        }
        // Everything was read and checked above; only now does any of it serve.
        List<String> changes;
        try {
            changes = new ArrayList<>(next.gateway() == null ? List.of() : server.reload(next.gateway()));
        } catch (IllegalArgumentException e) { // an upstream's backend-ca that cannot serve: refused before anything changed
            return refused(trigger, List.of(what() + ": " + e.getMessage()));
        }
        if (next.certificates() != null && server.tls() != null) {
            List<String> before = fingerprints(server.tls().certificates());
            server.tls().replaceCertificates(next.certificates());
            if (!before.equals(fingerprints(next.certificates()))) {
                next.certificates().forEach(certificate -> changes.add("certificate " + certificate.source() + " for "
                        + String.join(", ", certificate.names()) + " serves new handshakes (SHA-256 " + certificate.fingerprint() + ", until "
                        + certificate.notAfter() + ")"));
            }
        }
        if (changes.isEmpty()) {
            changes.add("no change");
        }
        server.events().record(PoolEvent.of(PoolEvent.Kind.RELOADED, trigger + ": reloaded " + what() + ": " + String.join("; ", changes)));
        return new Result(true, changes);
    }

    private static List<String> fingerprints(List<ServerCertificate> certificates) {
        return certificates.stream().map(ServerCertificate::fingerprint).toList();
    }

    private String what() {
        return file != null ? file.toString() : "the TLS certificates";
    }

    private Result refused(String trigger, List<String> lines) {
        server.events().record(PoolEvent.of(PoolEvent.Kind.OTHER, trigger + ": " + what() + " refused, still serving the previous configuration: " + String.join("; ", lines)));
        return new Result(false, lines);
    }

    /**
     * Reloads whenever the file changes (watched through its folder, as editors replace files by
     * renaming), on a daemon thread of its own; a burst of writes reloads once.
     */
    public void watch() throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        WatchService service = folder.getFileSystem().newWatchService();
        folder.register(service, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
        Thread thread = new Thread(() -> watchLoop(service), "config-watch");
        thread.setDaemon(true);
        watcher = thread;
        thread.start();
    }

    private void watchLoop(WatchService service) {
        byte[] seen = contents();
        try (service) {
            while (!Thread.currentThread().isInterrupted()) {
                WatchKey key = service.take();
                key.pollEvents();
                key.reset();
                // Let a writer finish (an editor writes, then renames) before reading: one reload per burst.
                WatchKey more;
                do {
                    more = service.poll(200, TimeUnit.MILLISECONDS);
                    if (more != null) {
                        more.pollEvents();
                        more.reset();
                    }
                } while (more != null);
                byte[] now = contents();
                if (now != null && !Arrays.equals(now, seen)) { // an unchanged file (a touch, a save without edits) reloads nothing
                    seen = now;
                    reload("file changed");
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException | IOException e) {
            // stopped
        }
    }

    private byte[] contents() {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
    }

    /** Stops watching the file, if it was. */
    public void stop() {
        Thread thread = watcher;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
