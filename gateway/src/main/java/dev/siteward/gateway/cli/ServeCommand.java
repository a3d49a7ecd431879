package dev.siteward.gateway.cli;

import dev.siteward.gateway.mqtt.EmbeddedMqttBroker;
import dev.siteward.gateway.mqtt.MqttConfiguration;
import dev.siteward.gateway.server.GatewayBeans;
import dev.siteward.gateway.server.SitewardConfiguration;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.ca.CaInitOptions;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import dev.siteward.pki.SecureFiles;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward serve}: runs the gateway on the data dir until SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the gateway: enrollment listener (EST) and mTLS device listener. The first start creates "
                + "the site CA and the embedded database in the data dir.")
public final class ServeCommand implements Callable<Integer> {

    @Mixin
    DataDir dataDir;
    @Mixin
    CaCommand.KeyOptions keys;
    @Spec
    CommandSpec spec;

    @Option(names = "--enroll-port", paramLabel = "PORT",
            description = "Enrollment listener port (default 8443, or siteward.enroll-port); 0 picks a free port.")
    Integer enrollPort;

    @Option(names = "--device-port", paramLabel = "PORT",
            description = "Device listener port (default 9443, or siteward.device-port); 0 picks a free port.")
    Integer devicePort;

    @Option(names = "--mqtt-port", paramLabel = "PORT",
            description = "Embedded MQTT 5 broker's TLS port (default 8883, or siteward.mqtt.port); 0 picks a free "
                    + "port. Not used when siteward.mqtt.broker is external.")
    Integer mqttPort;

    @Option(names = "--management-port", paramLabel = "PORT",
            description = "Management listener for /prometheus and /health (default 9090, or "
                    + "siteward.inference.management-port), bound to 127.0.0.1 unless "
                    + "siteward.inference.management-address says otherwise; 0 picks a free port.")
    Integer managementPort;

    @Option(names = "--advertised-host", paramLabel = "HOST",
            description = "Host name devices use to reach this gateway (default: this host's name).")
    String advertisedHost;

    @Override
    public Integer call() throws Exception {
        if (dataDir.gatewayUrl != null) {
            throw CliException.badInput("--gateway-url names a running gateway for other commands; serve runs one "
                    + "on --data-dir");
        }
        DataDir.Lock lock = dataDir.lock();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CaSecrets secrets = keys.secrets();
        if (!SiteCa.exists(dataDir.path())) {
            try (SiteCa ca = SiteCa.initialize(dataDir.path(), CaInitOptions.defaults(CaKind.SITE), secrets,
                    Clock.systemUTC())) {
                err.println("siteward: created the site CA in " + ca.directory() + " (root "
                        + Certificates.fingerprint(ca.root()) + ")");
                if (secrets.passphrase() == null && ca.generatedPassphraseFile().isPresent()) {
                    err.println("siteward: warning: no passphrase given; generated one in "
                            + ca.generatedPassphraseFile().get() + " (mode 0600)");
                }
                err.println("siteward: the bootstrap admin credential (every role, and the only one that manages "
                        + "admins) is in " + dataDir.path().resolve("admin") + "; give each person their own: "
                        + "siteward admin add NAME --role operator|security|publisher-admin|auditor --out DIR");
            }
        }
        checkClock();
        int enroll = port(enrollPort, "siteward.enroll-port", "SITEWARD_ENROLL_PORT",
                SitewardConfiguration.DEFAULT_ENROLL_PORT);
        int device = port(devicePort, "siteward.device-port", "SITEWARD_DEVICE_PORT",
                SitewardConfiguration.DEFAULT_DEVICE_PORT);
        if (enroll == device) {
            throw CliException.badInput("--enroll-port and --device-port must differ");
        }
        int mqtt = port(mqttPort, "siteward.mqtt.port", "SITEWARD_MQTT_PORT", MqttConfiguration.DEFAULT_PORT);
        if (mqtt == enroll || mqtt == device) {
            throw CliException.badInput("--mqtt-port must differ from --enroll-port and --device-port");
        }
        int management = port(managementPort, "siteward.inference.management-port", "SITEWARD_MANAGEMENT_PORT",
                dev.siteward.gateway.inference.InferenceConfiguration.DEFAULT_MANAGEMENT_PORT);
        if (management == enroll || management == device || management == mqtt) {
            throw CliException.badInput("--management-port must differ from the other ports");
        }
        Map<String, Object> props = new HashMap<>();
        props.put("siteward.inference.management-port", management);
        props.put("siteward.data-dir", dataDir.path().toString());
        props.put("siteward.enroll-port", enroll);
        props.put("siteward.device-port", device);
        props.put("siteward.mqtt.port", mqtt);
        if (advertisedHost != null) {
            props.put("siteward.advertised-host", advertisedHost);
        }
        if (keys.passphraseFile != null) {
            props.put("siteward.ca-passphrase-file", keys.passphraseFile.toAbsolutePath().toString());
        }
        if (keys.pinFile != null) {
            props.put("siteward.pkcs11-pin-file", keys.pinFile.toAbsolutePath().toString());
        }
        // refuse client-initiated renegotiation (a DoS vector); set before any TLS context exists
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        ApplicationContext ctx;
        try {
            ctx = Micronaut.build(new String[0]).properties(props).banner(false).deduceEnvironment(false).start();
        } catch (RuntimeException e) {
            lock.close();
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof dev.siteward.gateway.GatewayException g
                        && g.reason() == dev.siteward.gateway.GatewayException.Reason.CLOCK_UNTRUSTED) {
                    // trusted time: a clock behind the recorded time is a failed check, not a crash
                    throw new CliException(CliException.CHECK_FAILED, "refusing to start: " + g.getMessage(), e);
                }
            }
            throw new CliException(CliException.INTERNAL, "gateway failed to start: " + rootMessage(e), e);
        }
        String mqttListening;
        try {
            mqttListening = startMqtt(ctx);
            if (ctx.getBean(dev.siteward.gateway.inference.InferenceConfiguration.class).isEnabled()) {
                ctx.getBean(dev.siteward.gateway.inference.InferenceBeans.InferenceRuntime.class);
                mqttListening += " management=" + management;
            }
        } catch (CliException e) {
            lock.close();
            throw e;
        } catch (RuntimeException e) {
            ctx.close();
            lock.close();
            throw new CliException(CliException.INTERNAL, "gateway failed to start: " + rootMessage(e), e);
        }
        writeEndpoints(enroll, device, ctx);
        out.println("siteward: listening enroll=" + enroll + " device=" + device + mqttListening);
        out.flush();
        // On SIGTERM, Micronaut's shutdown hook stops the listeners and closes every bean (database, CA registry);
        // the data dir lock goes with the process. Until then this thread only waits.
        new CountDownLatch(1).await();
        return 0;
    }

    /**
     * Trusted time, before anything starts: a clock earlier than the latest time this data dir recorded (beyond
     * {@code siteward.clock-tolerance}, default 5m) refuses start-up with exit 1 until the clock is right or an
     * operator runs {@code siteward time accept}.
     */
    private void checkClock() {
        String text = System.getProperty("siteward.clock-tolerance", System.getenv("SITEWARD_CLOCK_TOLERANCE"));
        java.time.Duration tolerance = text == null || text.isBlank()
                ? dev.siteward.gateway.time.TimeGuard.DEFAULT_TOLERANCE : DurationText.parse(text);
        try {
            dev.siteward.gateway.time.TimeRecord record = dev.siteward.gateway.time.TimeRecord.read(dataDir.path());
            if (record != null) {
                dev.siteward.gateway.time.TimeGuard.checkNotBehind(record, Clock.systemUTC().instant(), tolerance);
            }
        } catch (dev.siteward.gateway.GatewayException | IOException e) {
            throw new CliException(CliException.CHECK_FAILED, "refusing to start: " + e.getMessage(), e);
        }
    }

    /** Starts the embedded MQTT broker, or the external broker's control; returns the listening line's MQTT part. */
    private static String startMqtt(ApplicationContext ctx) {
        MqttConfiguration mqtt = ctx.getBean(MqttConfiguration.class);
        MqttConfiguration.BrokerMode mode;
        try {
            mode = mqtt.brokerMode();
        } catch (IllegalArgumentException e) {
            ctx.close();
            throw CliException.badInput(e.getMessage());
        }
        if (mode == MqttConfiguration.BrokerMode.EMBEDDED) {
            return " mqtt=" + ctx.getBean(EmbeddedMqttBroker.class).port();
        }
        ctx.getBean(dev.siteward.gateway.mqtt.MosquittoControl.class);
        return "";
    }

    private void writeEndpoints(int enroll, int device, ApplicationContext ctx) throws IOException {
        String host = GatewayBeans.advertisedHost(ctx.getBean(SitewardConfiguration.class));
        String json = "{\"enrollUrl\":\"https://localhost:" + enroll + "\",\"deviceUrl\":\"https://localhost:" + device
                + "\",\"advertisedHost\":\"" + host + "\",\"pid\":" + ProcessHandle.current().pid() + "}\n";
        SecureFiles.writeAtomically(dataDir.path().resolve("gateway/endpoints.json"), json, false);
    }

    /** The port from the option, else the system property or environment variable, else the default; 0 → free. */
    static int port(Integer option, String property, String env, int fallback) {
        Integer p = option;
        if (p == null && System.getProperty(property) != null) {
            p = Integer.parseInt(System.getProperty(property));
        }
        if (p == null && System.getenv(env) != null) {
            p = Integer.parseInt(System.getenv(env));
        }
        if (p == null) {
            p = fallback;
        }
        if (p < 0 || p > 65535) {
            throw CliException.badInput("invalid port " + p);
        }
        if (p == 0) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(0));
                return s.getLocalPort();
            } catch (IOException e) {
                throw new CliException(CliException.INTERNAL, "cannot find a free port: " + e.getMessage());
            }
        }
        return p;
    }

    private static String rootMessage(Throwable t) {
        String msg = t.getMessage();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                msg = c.getMessage();
            }
        }
        return msg == null ? t.getClass().getSimpleName() : msg.lines().findFirst().orElse(msg);
    }
}
