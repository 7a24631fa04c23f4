//! Page-aligned block buffers for the data path.
//!
//! A buffer from the allocator starts 16 bytes into a page (for a block
//! large enough to be mapped on its own), while the kernel copies file data
//! from page-aligned page-cache pages: with source and destination 16 bytes
//! apart modulo 4 KiB, every load waits on the store before it (4 KiB
//! aliasing), and `read(2)` of a file on tmpfs ran at 546 MB/s into such a
//! buffer against 3,291 MB/s into a page-aligned one (256 KiB blocks, AMD
//! EPYC). Uploads spent two thirds of their CPU time there.
//!
//! Public for code that moves a file through a transfer by hand, as the
//! Python binding's `storbinary` does with [`DataWriter`](crate::DataWriter):
//!
//! ```
//! let mut block = ftpkit::block::Block::new(256 * 1024);
//! assert_eq!(block.as_mut().as_ptr() as usize % 4096, 0);
//! ```

/// Alignment of a block's start: a page.
const PAGE: usize = 4096;

/// A zeroed buffer of a fixed length whose first byte is on a page
/// boundary.
#[derive(Debug, Default)]
pub struct Block {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    /// A page-aligned block of `len` bytes.
    pub fn new(len: usize) -> Block {
        let storage = vec![0u8; len.saturating_add(PAGE)];
        // Within the first page of `storage`: a byte pointer can always be
        // aligned, and `PAGE` extra bytes leave room for `len` after it.
        let start = storage.as_ptr().align_offset(PAGE).min(PAGE);
        Block {
            storage,
            start,
            len,
        }
    }

    /// Makes the block `len` bytes long, reallocating only when it grows
    /// past the room it has (a block shortened for a listing's reads takes
    /// its length back for the next transfer without reallocating).
    pub fn resize(&mut self, len: usize) {
        if self.storage.is_empty() || len > self.storage.len().saturating_sub(self.start) {
            *self = Block::new(len);
        } else {
            self.len = len;
        }
    }

    /// A block of `len` bytes: the last of `spare` if any (no allocation,
    /// no zeroing), else a new one.
    pub(crate) fn take(spare: &mut Vec<Block>, len: usize) -> Block {
        let mut block = spare.pop().unwrap_or_default();
        block.resize(len);
        block
    }

    /// Puts `block` back in `spare` for the next move, which keeps two at
    /// most (one moving on each side of an async transfer).
    pub(crate) fn keep(spare: &mut Vec<Block>, block: Block) {
        if spare.len() < 2 {
            spare.push(block);
        }
    }

    /// The first `n` bytes of the block (all of it if `n` is larger).
    pub fn filled(&self, n: usize) -> &[u8] {
        let end = self.start.saturating_add(n.min(self.len));
        self.storage.get(self.start..end).unwrap_or_default()
    }
}

impl AsMut<[u8]> for Block {
    /// The whole block.
    fn as_mut(&mut self) -> &mut [u8] {
        let end = self.start.saturating_add(self.len);
        self.storage.get_mut(self.start..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_on_a_page_and_have_their_length() {
        for len in [1, 100, 4096, 65_536, 262_144, 1 << 20] {
            let mut block = Block::new(len);
            let buf = block.as_mut();
            assert_eq!(buf.len(), len);
            assert_eq!(buf.as_ptr() as usize % PAGE, 0, "block of {len}");
            buf.fill(7);
            assert_eq!(block.filled(len + 10).len(), len);
            assert_eq!(block.filled(3), vec![7; len.min(3)]);
        }
    }

    #[test]
    fn resizing_keeps_the_alignment_and_reuses_a_larger_block() {
        let mut block = Block::new(1 << 20);
        let before = block.as_mut().as_ptr();
        block.resize(65_536);
        assert_eq!(block.as_mut().len(), 65_536);
        assert_eq!(block.as_mut().as_ptr(), before);
        // Back to the length it had: the same storage.
        block.resize(1 << 20);
        assert_eq!(block.as_mut().len(), 1 << 20);
        assert_eq!(block.as_mut().as_ptr(), before);
        block.resize(2 << 20);
        assert_eq!(block.as_mut().len(), 2 << 20);
        assert_eq!(block.as_mut().as_ptr() as usize % PAGE, 0);
        let mut empty = Block::default();
        empty.resize(10);
        assert_eq!(empty.as_mut().len(), 10);
        assert_eq!(empty.as_mut().as_ptr() as usize % PAGE, 0);
    }
}
