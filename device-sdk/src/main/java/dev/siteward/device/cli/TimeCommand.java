package dev.siteward.device.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.GatewayTimeClient;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.device.store.DeviceState;
import dev.siteward.device.time.DeviceClock;
import dev.siteward.device.time.GatewayTimeSample;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code siteward-device time}: the local clock against the gateway's, and the time the SDK uses. */
@Command(name = "time", mixinStandardHelpOptions = true,
        description = "Show the local time, the gateway's time (from /.well-known/siteward over the pinned root), "
                + "the offset between them, and the time this device uses. Without a real-time clock (--no-rtc, or "
                + "detected) the gateway's time is learnt and recorded. Exit 0; 1 the gateway's time is not "
                + "believed (clockTrusted false, too slow, behind the record); 3 gateway unreachable.")
final class TimeCommand implements Callable<Integer> {

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
        DeviceDirectory dir = options.directory();
        DeviceState state = dir.load();
        DeviceClock clock = clockOptions.open(dir);
        GatewayTimeSample sample = GatewayTimeClient.forRoot(state.enrollUrl(), state.root(), System::nanoTime)
                .sample();
        Instant local = clock.localInstant();
        DeviceException refused = null;
        try {
            clock.learn(sample);
            clock.record();
        } catch (DeviceException e) {
            if (e.reason() != DeviceException.Reason.GATEWAY_TIME_UNTRUSTED) {
                throw e;
            }
            refused = e;
        }
        Instant gatewayNow = sample.time().plus(sample.roundTrip().dividedBy(2));
        Duration offset = Duration.between(local, gatewayNow);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode n = m.createObjectNode();
            n.put("localTime", local.toString());
            n.put("gatewayTime", sample.time().toString());
            n.put("gatewayClockTrusted", sample.clockTrusted());
            n.put("roundTripMillis", sample.roundTrip().toMillis());
            n.put("offsetMillis", offset.toMillis());
            n.put("localClockTrusted", clock.localTrusted());
            n.put("deviceTime", clock.instant().toString());
            n.put("source", clock.source().name().toLowerCase(java.util.Locale.ROOT));
            n.put("recordedTime", clock.recorded() == null ? null : clock.recorded().toString());
            n.put("gatewayTimeTaken", refused == null && !clock.localTrusted());
            if (refused != null) {
                n.put("refused", refused.getMessage());
            }
            out.println(m.writeValueAsString(n));
        } else {
            out.println("local time:    " + local + (clock.localTrusted() ? " (trusted)"
                    : " (not used: " + clock.untrustedBecause() + ")"));
            out.println("gateway time:  " + sample.time() + " (clockTrusted " + sample.clockTrusted()
                    + ", round trip " + sample.roundTrip().toMillis() + " ms)");
            out.println("offset:        " + offset + " (gateway minus local)");
            out.println("device time:   " + clock.instant() + " (source " + clock.source().name()
                    .toLowerCase(java.util.Locale.ROOT) + ", skew " + clock.skew() + ")");
            out.println("recorded time: " + clock.recorded());
            if (clock.localTrusted() && offset.abs().compareTo(clock.skew()) > 0) {
                out.println("warning: the local clock differs from the gateway's by more than " + clock.skew());
            }
        }
        if (refused != null) {
            spec.commandLine().getErr().println("siteward-device: " + refused.getMessage() + " ["
                    + refused.reason().code() + "]");
            return DeviceCommand.REFUSED;
        }
        return DeviceCommand.OK;
    }
}
