package dev.siteward.device.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.RenewalScheduler;
import dev.siteward.device.Whoami;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.trust.RootFingerprint;
import dev.siteward.pki.Certificates;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siteward-device status}: the local identity and, when the gateway is reachable, what it says about this
 * device. Exit 0 when the gateway accepts the credential or cannot be reached (shown as unreachable); exit 3 when
 * it refuses the credential (revoked, suspended) or is not the pinned site.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the device identity, certificate expiry, next renewal, gateway URLs, and what the "
                + "gateway says (whoami) when it is reachable.")
final class StatusCommand implements Callable<Integer> {

    @Mixin
    DirOptions options;

    @Mixin
    ClockOptions clockOptions;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Clock clock = clockOptions.synced(options.directory());
        DeviceIdentity id = DeviceIdentity.load(options.directory(), options.pinFile, clock);
        DeviceState s = id.state();
        Instant now = clock.instant();
        // the jitter is drawn from the serial, so repeated status calls show the same planned time
        Instant next = new RenewalScheduler(new Random(s.certificate().getSerialNumber().longValue()))
                .nextRenewal(s.certificate(), now);
        Whoami whoami = null;
        DeviceException failure = null;
        try {
            whoami = new DeviceHttpClient(id, clock).whoami();
        } catch (DeviceException e) {
            failure = e;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode n = m.createObjectNode();
            n.put("deviceId", s.deviceId());
            n.put("spiffeId", s.spiffeId());
            n.put("trustDomain", s.trustDomain());
            n.put("serial", Certificates.serialHex(s.certificate().getSerialNumber()));
            n.put("certificateExpires", id.expires().toString());
            n.put("nextRenewal", next.toString());
            n.put("enrollUrl", s.enrollUrl().toString());
            n.put("deviceUrl", s.deviceUrl().toString());
            n.put("rootFingerprint", RootFingerprint.of(s.root()).toString());
            n.put("keyType", s.key().type());
            ObjectNode g = n.putObject("gateway");
            g.put("reachable", failure == null || !failure.retryable());
            if (whoami != null) {
                ObjectNode w = g.putObject("whoami");
                w.put("id", whoami.id());
                w.put("kind", whoami.kind());
                w.put("spiffeId", whoami.spiffeId());
                w.put("status", whoami.status());
                w.put("serial", whoami.serial());
                w.put("certificateExpires", String.valueOf(whoami.certificateExpires()));
                whoami.labels().forEach(w.putObject("labels")::put);
            } else {
                g.put("error", failure.reason().code());
                g.put("message", failure.getMessage());
            }
            out.println(m.writeValueAsString(n));
        } else {
            out.println("device:        " + s.deviceId() + " (" + s.spiffeId() + ")");
            out.println("certificate:   serial " + Certificates.serialHex(s.certificate().getSerialNumber())
                    + ", expires " + id.expires() + (id.expires().isAfter(now) ? "" : " (EXPIRED)"));
            out.println("next renewal:  " + next);
            out.println("enroll url:    " + s.enrollUrl());
            out.println("device url:    " + s.deviceUrl());
            out.println("root:          " + RootFingerprint.of(s.root()));
            out.println("key:           " + s.key().type() + " " + s.key().name());
            if (whoami != null) {
                out.println("gateway:       reachable; status " + whoami.status() + ", labels " + whoami.labels());
            } else if (failure.retryable()) {
                out.println("gateway:       unreachable (" + failure.getMessage() + ")");
            } else {
                out.println("gateway:       REFUSED (" + failure.getMessage() + ")");
            }
        }
        out.flush();
        return failure == null || failure.retryable() ? DeviceCommand.OK : DeviceCommand.GATEWAY;
    }
}
