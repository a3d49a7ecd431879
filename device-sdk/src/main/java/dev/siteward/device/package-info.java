/** The device SDK. */
package dev.siteward.device;
