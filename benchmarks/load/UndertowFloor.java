///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION The floor under our proxy's cost: Undertow's HTTP server answering "ok" itself, with no proxying.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS io.undertow:undertow-core:2.4.4.Final
// The load balancer's own JVM options, so that the two are compared on the same heap, GC and inlining.
//RUNTIME_OPTIONS -XX:+UseSerialGC -Xmx64m -Xmn8m -Xss256k -XX:FreqInlineSize=200 -XX:InlineSmallCode=1500

import io.undertow.Undertow;
import io.undertow.util.Headers;

/**
 * What Undertow's server costs per request before any proxying: it parses the request (and runs the Host
 * check Undertow wraps every request in), and writes a fixed answer, with one IO thread per core like the
 * load balancer. {@code benchmarks/load/run.sh --floor} sets it beside nginx answering the same way, and
 * beside both proxies, so the part of our CPU per request that a faster forwarding path could still win
 * back shows as a difference: ours minus this floor, against nginx's proxy minus nginx's own floor.
 *
 * <pre>./jbang benchmarks/load/UndertowFloor.java PORT   # listens on 127.0.0.1:PORT, GET anything → 200 "ok"</pre>
 */
public class UndertowFloor {

    public static void main(String[] args) {
        if (args.length != 1 || !args[0].matches("\\d{1,5}")) {
            System.err.println("usage: UndertowFloor.java PORT   (listens on 127.0.0.1:PORT)");
            System.exit(2);
        }
        Undertow.builder()
                .setIoThreads(Runtime.getRuntime().availableProcessors())
                .addHttpListener(Integer.parseInt(args[0]), "127.0.0.1")
                .setHandler(exchange -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                    exchange.getResponseSender().send("ok\n");
                })
                .build()
                .start();
        System.out.println("UndertowFloor listening on http://127.0.0.1:" + args[0] + "/");
    }
}
