//! The option setters that the blocking and the async `download` and
//! `upload` builders share, written once. Each builder has an `options:
//! TransferOptions` and a `progress` field; downloads also a `known` field.

/// Setter methods for a transfer builder: `common` (with the extra bounds
/// of the progress callback, e.g. `+ Send`), `download` or `upload`.
macro_rules! transfer_setters {
    (common $($bound:tt)*) => {
        /// Resumes from the bytes already at the destination (default on).
        pub fn resume(mut self, on: bool) -> Self {
            self.options.resume = on;
            self
        }

        /// Retries after a transient failure, with exponential backoff
        /// (default: 3 retries, 1 s first wait).
        pub fn retry(mut self, policy: $crate::RetryPolicy) -> Self {
            self.options.retry = policy;
            self
        }

        /// Number of retries, keeping the backoff of the current policy.
        pub fn retries(mut self, retries: u32) -> Self {
            self.options.retry.retries = retries;
            self
        }

        /// How to verify the result (default: size, and a hash where offered).
        pub fn verify(mut self, verify: $crate::Verify) -> Self {
            self.options.verify = verify;
            self
        }

        /// Copies the modification time to the destination (default on).
        pub fn preserve_mtime(mut self, on: bool) -> Self {
            self.options.preserve_mtime = on;
            self
        }

        /// Caps the rate at `bytes_per_second`.
        pub fn limit_rate(mut self, bytes_per_second: u64) -> Self {
            self.options.limit_rate = Some(bytes_per_second);
            self
        }

        /// Replaces every option at once.
        pub fn options(mut self, options: $crate::TransferOptions) -> Self {
            self.options = options;
            self
        }

        /// Calls `f` with the file offset reached, after each block.
        pub fn progress(mut self, f: impl FnMut(u64) $($bound)* + 'c) -> Self {
            self.progress = Some(Box::new(f));
            self
        }
    };
    (download) => {
        /// The remote file's size and time as a listing just showed them: the
        /// first attempt uses them instead of asking `SIZE` and `MDTM` (two
        /// round trips fewer per file in a mirror). Retries ask the server.
        pub fn known_stat(mut self, stat: $crate::RemoteStat) -> Self {
            self.known = Some(stat);
            self
        }

        /// Flushes the file to disk (fsync) before renaming it to its final
        /// name (default off).
        pub fn sync(mut self, on: bool) -> Self {
            self.options.sync = on;
            self
        }

        /// Downloads a big file over up to `n` connections at once (default
        /// 1), in ranges, each fetched on its own connection (`REST` to the
        /// range's start, then `RETR`, stopped at the range's end) and
        /// written in place into `LOCAL.part`, created at full length. The
        /// client's own connection starts at once on the whole file; each
        /// of the others (given with `helpers` or `opening_helpers`, or new
        /// connections with the same settings and login) splits off the far
        /// part of the range with the most left as soon as it is logged in.
        /// A connection the server refuses is done without: the others
        /// cover its part. Each range retries on its own; progress is recorded
        /// in `LOCAL.part.segments`, so an interrupted download resumes each
        /// range where it stopped. The file is verified whole at the end
        /// (size, and a hash where offered). Used only when the server tells
        /// the size and each range would hold at least 1 MiB; otherwise (and
        /// for `n` of 0 or 1) the download runs over one connection.
        pub fn segments(mut self, n: u16) -> Self {
            self.options.segments = n;
            self
        }
    };
    (upload) => {
        /// Uploads to `REMOTE.part` and renames it to `REMOTE` (`RNFR`/`RNTO`)
        /// once complete and verified (default off: the upload goes straight
        /// to `REMOTE`). With a temporary name, an earlier `.part` on the
        /// server is resumed.
        pub fn temp_name(mut self, on: bool) -> Self {
            self.options.temp_name = on;
            self
        }

        /// Resumes a file already on the server under the target name (after
        /// comparing an overlap with the local bytes) instead of replacing it;
        /// default off. For a file left by an interrupted earlier upload.
        pub fn resume_existing(mut self, on: bool) -> Self {
            self.options.resume_existing = on;
            self
        }
    };
}
