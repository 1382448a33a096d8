//! A polled [`embassy_net_driver::Driver`] for the SMSC LAN9118 Ethernet controller on a
//! 32-bit memory bus (QEMU's `mps2-an386` maps it at [`MPS2_BASE`]).
//!
//! Polled: when no frame is waiting, [`Lan9118::receive`] wakes its task again at once, so
//! the executor never sleeps while the network task runs (see the README's limits).
#![no_std]

use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};

/// The controller's base address on the Arm MPS2 boards (QEMU `hw/arm/mps2.c`).
pub const MPS2_BASE: usize = 0x4020_0000;

/// The largest Ethernet frame this driver moves (without the frame check sequence).
pub const MTU: usize = 1514;

// Register offsets (datasheet section 5.3, "System Control and Status Registers").
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const ID_REV: usize = 0x50;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

// MAC control and status registers, reached through MAC_CSR_CMD / MAC_CSR_DATA.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;

const MAC_CR_FDPX: u32 = 1 << 20;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;
const HW_CFG_SRST: u32 = 1;
const TX_CFG_TX_ON: u32 = 1 << 1;
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;
/// Receive status: an error in the frame (CRC, length, collision, runt, too long).
const RX_STS_ERROR: u32 = 1 << 15;
const PHY_BASIC_STATUS: u32 = 1;
const PHY_LINK_UP: u32 = 1 << 2;
const BYTE_TEST_VALUE: u32 = 0x8765_4321;

/// What [`Lan9118::new`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// `BYTE_TEST` did not read 0x87654321: nothing, or a 16-bit bus, at that address.
    NotFound(u32),
    /// A MAC register access stayed busy.
    MacBusy,
}

#[derive(Clone, Copy)]
struct Registers(usize);

impl Registers {
    fn read(self, offset: usize) -> u32 {
        // Safety: `Lan9118::new`'s caller promised a LAN9118 at this base address.
        unsafe { core::ptr::read_volatile((self.0 + offset) as *const u32) }
    }

    fn write(self, offset: usize, value: u32) {
        // Safety: as in `read`.
        unsafe { core::ptr::write_volatile((self.0 + offset) as *mut u32, value) }
    }

    fn wait_mac(self) -> Result<(), Error> {
        for _ in 0..100_000 {
            if self.read(MAC_CSR_CMD) & CSR_BUSY == 0 {
                return Ok(());
            }
        }
        Err(Error::MacBusy)
    }

    fn mac_read(self, register: u32) -> Result<u32, Error> {
        self.wait_mac()?;
        self.write(MAC_CSR_CMD, CSR_BUSY | CSR_READ | register);
        self.wait_mac()?;
        Ok(self.read(MAC_CSR_DATA))
    }

    fn mac_write(self, register: u32, value: u32) -> Result<(), Error> {
        self.wait_mac()?;
        self.write(MAC_CSR_DATA, value);
        self.write(MAC_CSR_CMD, CSR_BUSY | register);
        self.wait_mac()
    }

    /// Reads a register of the internal PHY (address 1) through the MII management port.
    fn phy_read(self, register: u32) -> Result<u32, Error> {
        self.mac_write(MAC_MII_ACC, (1 << 11) | (register << 6))?;
        Ok(self.mac_read(MAC_MII_DATA)? & 0xffff)
    }
}

/// The driver: one receive and one transmit frame buffer of [`MTU`] bytes each.
pub struct Lan9118 {
    registers: Registers,
    mac: [u8; 6],
    rx: [u8; MTU],
    tx: [u8; MTU],
}

impl Lan9118 {
    /// Resets the controller at `base` and enables its transmitter and receiver, with the
    /// MAC address it loaded from its EEPROM (QEMU's `-nic ...,mac=`).
    ///
    /// # Safety
    /// `base` must be the address of a LAN9118 on a 32-bit bus, used by nothing else.
    pub unsafe fn new(base: usize) -> Result<Self, Error> {
        let registers = Registers(base);
        let test = registers.read(BYTE_TEST);
        if test != BYTE_TEST_VALUE {
            return Err(Error::NotFound(test));
        }
        registers.write(HW_CFG, HW_CFG_SRST);
        for _ in 0..100_000 {
            if registers.read(HW_CFG) & HW_CFG_SRST == 0 {
                break;
            }
        }
        registers.write(INT_EN, 0);
        registers.write(RX_CFG, 0);
        let low = registers.mac_read(MAC_ADDRL)?.to_le_bytes();
        let high = registers.mac_read(MAC_ADDRH)?.to_le_bytes();
        let mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
        registers.mac_write(MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN)?;
        registers.write(TX_CFG, TX_CFG_TX_ON);
        Ok(Self {
            registers,
            mac,
            rx: [0; MTU],
            tx: [0; MTU],
        })
    }

    /// The chip's identification (`ID_REV`: 0x0118 in the high half for a LAN9118).
    pub fn id(&self) -> u32 {
        self.registers.read(ID_REV)
    }

    /// Reads one waiting frame into the receive buffer; its length, or `None`.
    fn read_frame(&mut self) -> Option<usize> {
        let registers = self.registers;
        while (registers.read(RX_FIFO_INF) >> 16) & 0xff != 0 {
            let status = registers.read(RX_STATUS_FIFO);
            // The length counts the 4-byte frame check sequence, which is in the FIFO too.
            let length = ((status >> 16) & 0x3fff) as usize;
            let words = length.div_ceil(4);
            let frame = length.saturating_sub(4);
            if status & RX_STS_ERROR != 0 || !(14..=MTU).contains(&frame) {
                // Drops it by reading it out of the FIFO.
                for _ in 0..words {
                    registers.read(RX_DATA_FIFO);
                }
                continue;
            }
            for index in 0..words {
                let word = registers.read(RX_DATA_FIFO).to_le_bytes();
                let start = index * 4;
                let end = (start + 4).min(frame);
                if start < end {
                    self.rx[start..end].copy_from_slice(&word[..end - start]);
                }
            }
            return Some(frame);
        }
        None
    }

    fn tx_has_room(&self) -> bool {
        let registers = self.registers;
        // Drains the transmit status FIFO, so it never fills up.
        while (registers.read(TX_FIFO_INF) >> 16) & 0xff != 0 {
            registers.read(TX_STATUS_FIFO);
        }
        (registers.read(TX_FIFO_INF) & 0xffff) as usize >= MTU + 8
    }
}

/// A received frame, already out of the chip.
pub struct RxToken<'a> {
    frame: &'a mut [u8],
}

impl embassy_net_driver::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame in the transmit FIFO.
pub struct TxToken<'a> {
    registers: Registers,
    buffer: &'a mut [u8; MTU],
}

impl embassy_net_driver::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MTU);
        let frame = &mut self.buffer[..len];
        let result = f(frame);
        let length = len as u32;
        self.registers
            .write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | length);
        self.registers.write(TX_DATA_FIFO, length);
        for chunk in frame.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.registers.write(TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        result
    }
}

impl Driver for Lan9118 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(RxToken<'_>, TxToken<'_>)> {
        if !self.tx_has_room() {
            cx.waker().wake_by_ref();
            return None;
        }
        let Some(length) = self.read_frame() else {
            cx.waker().wake_by_ref();
            return None;
        };
        let registers = self.registers;
        Some((
            RxToken {
                frame: &mut self.rx[..length],
            },
            TxToken {
                registers,
                buffer: &mut self.tx,
            },
        ))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<TxToken<'_>> {
        if !self.tx_has_room() {
            cx.waker().wake_by_ref();
            return None;
        }
        Some(TxToken {
            registers: self.registers,
            buffer: &mut self.tx,
        })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        cx.waker().wake_by_ref();
        match self.registers.phy_read(PHY_BASIC_STATUS) {
            Ok(status) if status & PHY_LINK_UP != 0 => LinkState::Up,
            _ => LinkState::Down,
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::default();
        capabilities.max_transmission_unit = MTU;
        capabilities.max_burst_size = Some(1);
        capabilities
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }
}
