/** {@code siteward demo}: the whole site on one machine, from real processes and real credentials. */
package dev.siteward.gateway.demo;
