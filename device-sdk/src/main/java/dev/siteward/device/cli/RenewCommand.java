package dev.siteward.device.cli;

import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.RenewalClient;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.store.DeviceDirectory;
import dev.siteward.pki.Certificates;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code siteward-device renew}: renew the device certificate now, with a new key. */
@Command(name = "renew", mixinStandardHelpOptions = true,
        description = "Renew the device certificate now with a new key (EST simplereenroll over mTLS). The working "
                + "credential is kept unless the renewal succeeds.")
final class RenewCommand implements Callable<Integer> {

    @Mixin
    DirOptions options;

    @Mixin
    ClockOptions clockOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws DeviceException {
        DeviceDirectory dir = options.directory();
        Clock clock = clockOptions.synced(dir);
        DeviceIdentity current = DeviceIdentity.load(dir, options.pinFile, clock);
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10),
                new SecureRandom()), 4, d -> Thread.sleep(d.toMillis()));
        DeviceHttpClient http = new DeviceHttpClient(current, clock);
        DeviceIdentity renewed = RenewalClient.over(http, dir,
                DeviceIdentity.keyStore(dir, current.state(), options.pinFile, clock), clock, retry).renew();
        spec.commandLine().getOut().println("renewed device '" + renewed.deviceId() + "': serial "
                + Certificates.serialHex(renewed.certificate().getSerialNumber()) + ", expires " + renewed.expires()
                + " (was serial " + Certificates.serialHex(current.certificate().getSerialNumber()) + ")");
        return DeviceCommand.OK;
    }
}
