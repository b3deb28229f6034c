package proxy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import sun.misc.Signal;

/**
 * The process's signals, as nginx reads them: TERM, INT and QUIT stop gracefully (drain, exit 0), HUP
 * asks for a reload. HotSpot never lets Java handle SIGQUIT: it prints a thread dump to stdout instead
 * (-Xrs would free the signal for native code only, and would take TERM, INT and HUP from Java too).
 * So the launcher runs the JVM with {@code -XX:-DisplayVMOutput -XX:+LogVMOutput -XX:LogFile=...}:
 * the dump goes to that file instead of stdout, and a watcher thread that finds "Full thread dump"
 * in it treats it as SIGQUIT. The file is unlinked at once (we keep it open), so nothing is left
 * behind. Without those options, SIGQUIT keeps the JVM's thread dump. Thread-safe; one per process.
 */
public final class ProcessSignals {
    private static final byte[] DUMP_MARK = "Full thread dump".getBytes(StandardCharsets.ISO_8859_1);

    private final FileChannel vmLog;

    private ProcessSignals(FileChannel vmLog) {
        this.vmLog = vmLog;
    }

    /**
     * Call first thing in {@code main}: opens and unlinks the JVM's output log, when the JVM was started
     * to write its thread dumps there (see the class comment).
     */
    public static ProcessSignals claim() {
        List<String> options = ManagementFactory.getRuntimeMXBean().getInputArguments();
        String logFile = null;
        for (String option : options) {
            if (option.startsWith("-XX:LogFile=")) {
                logFile = option.substring("-XX:LogFile=".length()).replace("%p", "pid" + ProcessHandle.current().pid());
            }
        }
        if (logFile == null || !options.contains("-XX:-DisplayVMOutput") || !options.contains("-XX:+LogVMOutput")) {
            return new ProcessSignals(null);
        }
        try {
            FileChannel channel = FileChannel.open(Path.of(logFile), StandardOpenOption.READ);
            Files.deleteIfExists(Path.of(logFile));
            channel.position(channel.size()); // only dumps from now on
            return new ProcessSignals(channel);
        } catch (IOException e) {
            return new ProcessSignals(null);
        }
    }

    /** Whether SIGQUIT reaches {@link #onStop}: the JVM was started as the class comment says. */
    public boolean seesQuit() {
        return vmLog != null;
    }

    /** Runs {@code stop} on SIGTERM, SIGINT (Ctrl-C) and, where {@link #seesQuit()}, SIGQUIT. */
    public void onStop(Runnable stop) {
        // A signal handler rather than a shutdown hook: after a hook the JVM exits 143 whatever
        // happened, and other hooks (a JFR recording's dump, say) must still run after the drain.
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> stop.run());
        }
        if (vmLog != null) {
            Thread watcher = new Thread(() -> watchForThreadDump(stop), "sigquit-watcher");
            watcher.setDaemon(true);
            watcher.start();
        }
    }

    /** Runs {@code hangup} on SIGHUP instead of dying (the JVM's default is to exit 129). */
    public void onHangup(Runnable hangup) {
        try {
            Signal.handle(new Signal("HUP"), signal -> hangup.run());
        } catch (IllegalArgumentException e) {
            // HUP is ignored (started under nohup): then it cannot kill us either
        }
    }

    /** Polls the unlinked log for a new thread dump; a blocking loop, on its own daemon thread. */
    private void watchForThreadDump(Runnable stop) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        byte[] carry = new byte[0];
        try {
            while (true) {
                buffer.clear();
                int n = vmLog.read(buffer);
                if (n <= 0) {
                    Thread.sleep(100);
                    continue;
                }
                byte[] seen = new byte[carry.length + n];
                System.arraycopy(carry, 0, seen, 0, carry.length);
                System.arraycopy(buffer.array(), 0, seen, carry.length, n);
                if (contains(seen, DUMP_MARK)) {
                    stop.run();
                }
                // Keep the tail, in case the mark is split between two reads.
                int keep = Math.min(seen.length, DUMP_MARK.length - 1);
                carry = new byte[keep];
                System.arraycopy(seen, seen.length - keep, carry, 0, keep);
            }
        } catch (IOException e) {
            // the JVM is exiting
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
