module ddata.test/ddgo

go 1.26
